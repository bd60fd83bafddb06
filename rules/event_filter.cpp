#include "rules/event_filter.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <set>

#include "rules/matcher.hpp"

namespace tocsin::rules {
namespace {

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

// Whether `haystack` contains `lower_needle` (already lowered), ignoring ASCII case.
bool contains_ignoring_case(std::string_view haystack, std::string_view lower_needle) {
  if (lower_needle.empty()) return true;
  const auto it =
      std::search(haystack.begin(), haystack.end(), lower_needle.begin(), lower_needle.end(),
                  [](char a, char b) { return ascii_lower(a) == b; });
  return it != haystack.end();
}

// Whether `term` holds a matcher operator (`=`, `!=`, `=~`, `!~`) outside double quotes.
bool has_operator(std::string_view term) {
  bool quoted = false;
  for (std::size_t i = 0; i < term.size(); ++i) {
    const char c = term[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == '=' || (c == '!' && i + 1 < term.size() && term[i + 1] == '~')) {
      return true;
    }
  }
  return false;
}

// A term wholly in double quotes is a phrase: its text with \" and \\ resolved.
std::string bare_word(std::string_view term) {
  if (term.size() < 2 || term.front() != '"' || term.back() != '"') return std::string(term);
  std::string out;
  out.reserve(term.size());
  for (std::size_t i = 1; i + 1 < term.size(); ++i) {
    if (term[i] == '\\' && i + 2 < term.size()) ++i;
    out += term[i];
  }
  return out;
}

bool needs_quotes(std::string_view word) {
  return word.empty() || has_operator(word) || std::any_of(word.begin(), word.end(), [](char c) {
           return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\\';
         });
}

}  // namespace

event_filter::event_filter() = default;
event_filter::~event_filter() = default;
event_filter::event_filter(event_filter&&) noexcept = default;
event_filter& event_filter::operator=(event_filter&&) noexcept = default;

std::vector<std::string> split_filter_terms(std::string_view text) {
  std::vector<std::string> terms;
  std::string current;
  bool quoted = false;
  bool in_term = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!quoted && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
      if (in_term) terms.push_back(std::move(current));
      current.clear();
      in_term = false;
      continue;
    }
    in_term = true;
    current += c;
    if (quoted && c == '\\' && i + 1 < text.size()) {
      current += text[++i];
    } else if (c == '"') {
      quoted = !quoted;
    }
  }
  if (quoted) {
    throw event_filter_error("filter: unclosed double quote in term " +
                             std::to_string(terms.size() + 1) + " (" + current + ")");
  }
  if (in_term) terms.push_back(std::move(current));
  return terms;
}

event_filter event_filter::parse(std::string_view text) {
  return parse(std::vector<std::string>{std::string(text)});
}

event_filter event_filter::parse(const std::vector<std::string>& texts) {
  event_filter filter;
  std::size_t number = 0;
  for (const std::string& text : texts) {
    for (const std::string& written : split_filter_terms(text)) {
      ++number;
      if (!has_operator(written)) {
        filter.add(filter_term{"", config::match_op::equal, bare_word(written)}, number, written);
        continue;
      }
      std::string problem;
      auto spec = config::parse_matcher(written, &problem);
      if (!spec) {
        throw event_filter_error("filter term " + std::to_string(number) + " (" + written +
                                 "): " + problem);
      }
      filter.add(filter_term{std::move(spec->name), spec->op, std::move(spec->value)}, number,
                 written);
    }
  }
  return filter;
}

void event_filter::add(filter_term term, std::size_t number, std::string_view written) {
  const auto fail = [&](const std::string& why) {
    throw event_filter_error("filter term " + std::to_string(number) + " (" + std::string(written) +
                             "): " + why);
  };
  std::unique_ptr<const re2::RE2> regex;
  std::string lower;
  if (term.is_word()) {
    if (term.value.empty()) fail("an empty phrase");
    lower = lowered(term.value);
  } else {
    if (!is_event_field(term.field)) {
      fail("unknown field \"" + term.field +
           "\"; expected message, host, app, procid, msgid, facility, severity, input, source, "
           "format, fields.NAME or sd.ID.PARAM");
    }
    if (term.op == config::match_op::regex || term.op == config::match_op::not_regex) {
      RE2::Options options;
      options.set_log_errors(false);
      auto re = std::make_unique<const re2::RE2>(term.value, options);
      if (!re->ok()) fail("invalid regex: " + re->error());
      regex = std::move(re);
    }
  }
  terms_.push_back(std::move(term));
  lowered_words_.push_back(std::move(lower));
  regexes_.push_back(std::move(regex));
}

bool event_filter::matches(const collector::event& ev) const {
  thread_local std::string value;
  for (std::size_t i = 0; i < terms_.size(); ++i) {
    const filter_term& t = terms_[i];
    if (t.is_word()) {
      if (!contains_ignoring_case(ev.message, lowered_words_[i])) return false;
      continue;
    }
    if (!compiled_rules::field_value(ev, t.field, value)) value.clear();
    bool ok = false;
    switch (t.op) {
      case config::match_op::equal:
        ok = value == t.value;
        break;
      case config::match_op::not_equal:
        ok = value != t.value;
        break;
      case config::match_op::regex:
        ok = RE2::PartialMatch(value, *regexes_[i]);
        break;
      case config::match_op::not_regex:
        ok = !RE2::PartialMatch(value, *regexes_[i]);
        break;
    }
    if (!ok) return false;
  }
  return true;
}

const std::string* event_filter::exact_value(std::string_view field) const {
  for (const filter_term& t : terms_) {
    if (t.field == field && t.op == config::match_op::equal) return &t.value;
  }
  return nullptr;
}

std::string event_filter::to_string() const {
  std::string out;
  for (const filter_term& t : terms_) {
    if (!out.empty()) out += ' ';
    if (!t.is_word()) {
      out += config::to_string(config::matcher_spec{t.field, t.op, t.value});
    } else if (!needs_quotes(t.value)) {
      out += t.value;
    } else {
      out += '"';
      for (const char c : t.value) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += '"';
    }
  }
  return out;
}

std::string search_filter_for_alert(const rule_definition& rule, const label_set& labels) {
  std::vector<std::string> terms;
  terms.reserve(rule.match.size() + rule.group_by.size() + 1);
  for (const field_pattern& p : rule.match) {
    terms.push_back(
        config::to_string(config::matcher_spec{p.field, config::match_op::regex, p.pattern}));
  }
  if (rule.min_severity >= 0) {
    // min_severity keeps severity <= it: emerg (0) .. the named level.
    std::string alternatives;
    for (int s = 0; s <= rule.min_severity && s < 8; ++s) {
      if (!alternatives.empty()) alternatives += '|';
      alternatives += collector::severity_name(s);
    }
    terms.push_back(config::to_string(
        config::matcher_spec{"severity", config::match_op::regex, "^(" + alternatives + ")$"}));
  }
  // The group's values of the event fields the rule groups by, under the label name the engine
  // gives them (fields.user → fields_user). A field whose label is really something else is
  // skipped: a named group of the patterns, a static label, or alertname and severity.
  std::set<std::string> not_from_fields = {"alertname", "severity"};
  for (const auto& [name, value] : rule.labels) not_from_fields.insert(name);
  for (const field_pattern& p : rule.match) {
    RE2::Options options;
    options.set_log_errors(false);
    const re2::RE2 re(p.pattern, options);
    for (const auto& [name, index] : re.NamedCapturingGroups()) not_from_fields.insert(name);
  }
  for (const std::string& field : rule.group_by) {
    const std::string label = label_name_for_field(field);
    if (!is_event_field(field) || not_from_fields.contains(label) ||
        not_from_fields.contains(field)) {
      continue;
    }
    const auto it = labels.find(label);
    if (it == labels.end()) continue;
    terms.push_back(
        config::to_string(config::matcher_spec{field, config::match_op::equal, it->second}));
  }
  std::string out;
  for (const std::string& t : terms) {
    if (!out.empty()) out += ' ';
    out += t;
  }
  return out;
}

}  // namespace tocsin::rules
