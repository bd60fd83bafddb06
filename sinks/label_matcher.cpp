#include "sinks/label_matcher.hpp"

#include <re2/re2.h>

#include <algorithm>

namespace tocsin::sinks {
namespace {

void set_problem(std::string* problem, std::string text) {
  if (problem != nullptr) *problem = std::move(text);
}

}  // namespace

std::optional<label_matcher> label_matcher::parse(std::string_view text, std::string* problem) {
  auto spec = config::parse_matcher(text, problem);
  if (!spec) return std::nullopt;
  return make(std::move(*spec), problem);
}

std::optional<std::vector<label_matcher>> label_matcher::parse_list(std::string_view text,
                                                                    std::string* problem) {
  auto specs = config::parse_matchers(text, problem);
  if (!specs) return std::nullopt;
  std::vector<label_matcher> out;
  for (config::matcher_spec& spec : *specs) {
    auto m = make(std::move(spec), problem);
    if (!m) return std::nullopt;
    out.push_back(std::move(*m));
  }
  return out;
}

std::optional<label_matcher> label_matcher::make(std::string name, std::string value, match_op op,
                                                 std::string* problem) {
  return make(config::matcher_spec{std::move(name), op, std::move(value)}, problem);
}

std::optional<label_matcher> label_matcher::make(config::matcher_spec spec, std::string* problem) {
  if (spec.name.empty()) {
    set_problem(problem, "empty label name");
    return std::nullopt;
  }
  label_matcher m;
  if (spec.op == match_op::regex || spec.op == match_op::not_regex) {
    RE2::Options options;
    options.set_log_errors(false);
    // Anchored at both ends, like Alertmanager's "^(?:" + value + ")$".
    auto regex = std::make_shared<const RE2>("^(?:" + spec.value + ")$", options);
    if (!regex->ok()) {
      // RE2 names the failing part of the pattern; say it about the text as written when that
      // fails alone too, not about the anchored form.
      const RE2 alone(spec.value, options);
      set_problem(problem, "invalid regex \"" + spec.value +
                               "\": " + (alone.ok() ? regex->error() : alone.error()));
      return std::nullopt;
    }
    m.regex_ = std::move(regex);
  }
  m.name_ = std::move(spec.name);
  m.value_ = std::move(spec.value);
  m.op_ = spec.op;
  return m;
}

bool label_matcher::matches(const rules::label_set& labels) const {
  const auto it = labels.find(name_);
  const std::string empty;
  const std::string& actual = it == labels.end() ? empty : it->second;
  switch (op_) {
    case match_op::equal:
      return actual == value_;
    case match_op::not_equal:
      return actual != value_;
    case match_op::regex:
      return RE2::PartialMatch(actual, *regex_);
    case match_op::not_regex:
      return !RE2::PartialMatch(actual, *regex_);
  }
  return false;
}

std::string label_matcher::to_string() const {
  return config::to_string(config::matcher_spec{name_, op_, value_});
}

bool matches_all(const std::vector<label_matcher>& matchers, const rules::label_set& labels) {
  return std::all_of(matchers.begin(), matchers.end(),
                     [&](const label_matcher& m) { return m.matches(labels); });
}

}  // namespace tocsin::sinks
