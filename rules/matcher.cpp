#include "rules/matcher.hpp"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <map>
#include <optional>

#include "config/config.hpp"
#include "rules/literal_prefilter.hpp"

namespace tocsin::rules {
namespace {

enum class field_kind : std::uint8_t {
  message,
  host,
  app,
  procid,
  msgid,
  facility,
  severity,
  input,
  source,
  format,
  fields,  // fields.NAME
  sd,      // sd.ID.PARAM
};

// A field name split once, so matching never compares field names.
struct field_ref {
  field_kind kind = field_kind::message;
  std::string_view name;  // NAME of fields.NAME, "ID.PARAM" of sd.ID.PARAM
};

std::optional<field_ref> parse_field(std::string_view field) {
  static constexpr std::pair<std::string_view, field_kind> plain[] = {
      {"message", field_kind::message},   {"host", field_kind::host},
      {"app", field_kind::app},           {"procid", field_kind::procid},
      {"msgid", field_kind::msgid},       {"facility", field_kind::facility},
      {"severity", field_kind::severity}, {"input", field_kind::input},
      {"source", field_kind::source},     {"format", field_kind::format},
  };
  for (const auto& [name, kind] : plain) {
    if (field == name) return field_ref{kind, {}};
  }
  if (!is_event_field(field)) return std::nullopt;
  if (field.starts_with("fields.")) return field_ref{field_kind::fields, field.substr(7)};
  return field_ref{field_kind::sd, field.substr(3)};
}

// Whether `v` is a non-empty view; decoders leave absent fields empty.
bool set_view(std::string_view v, std::string_view& out) {
  out = v;
  return !v.empty();
}

// The text of `f` in `ev`: a view into the event, or into `scratch` when it has to be built
// (names, numbers, unescaped SD values). False when the event lacks the field.
bool field_text(const collector::event& ev, const field_ref& f, std::string& scratch,
                std::string_view& out) {
  switch (f.kind) {
    case field_kind::message:
      return set_view(ev.message, out);
    case field_kind::host:
      return set_view(ev.host, out);
    case field_kind::app:
      return set_view(ev.app, out);
    case field_kind::procid:
      return set_view(ev.procid, out);
    case field_kind::msgid:
      return set_view(ev.msgid, out);
    case field_kind::input:
      return set_view(ev.input, out);
    case field_kind::source:
      return set_view(ev.source, out);
    case field_kind::format:
      return set_view(ev.format, out);
    case field_kind::facility: {
      const char* name = collector::facility_name(ev.facility);
      return name != nullptr && set_view(name, out);
    }
    case field_kind::severity: {
      const char* name = collector::severity_name(ev.severity);
      return name != nullptr && set_view(name, out);
    }
    case field_kind::fields: {
      if (!ev.fields.is_object()) return false;
      const auto it = ev.fields.find(f.name);
      if (it == ev.fields.end()) return false;
      const nlohmann::json& value = *it;
      char digits[32];
      switch (value.type()) {
        case nlohmann::json::value_t::string:
          out = value.get_ref<const std::string&>();
          return true;
        case nlohmann::json::value_t::null:
          return false;  // graypy sends null for unset extra fields
        case nlohmann::json::value_t::number_integer: {
          const auto r = std::to_chars(digits, digits + sizeof(digits),
                                       value.get<nlohmann::json::number_integer_t>());
          scratch.assign(digits, r.ptr);
          break;
        }
        case nlohmann::json::value_t::number_unsigned: {
          const auto r = std::to_chars(digits, digits + sizeof(digits),
                                       value.get<nlohmann::json::number_unsigned_t>());
          scratch.assign(digits, r.ptr);
          break;
        }
        case nlohmann::json::value_t::boolean:
          scratch.assign(value.get<bool>() ? "true" : "false");
          break;
        default:  // floats, objects, arrays: as the Event JSON shows them
          scratch = value.dump();
          break;
      }
      out = scratch;
      return true;
    }
    case field_kind::sd: {
      // "ID.PARAM" split where this param's id ends, so ids and params may both hold dots.
      for (const collector::sd_param& p : ev.sd) {
        if (p.name.empty() || p.id.size() + 1 + p.name.size() != f.name.size() ||
            !f.name.starts_with(p.id) || f.name[p.id.size()] != '.' || !f.name.ends_with(p.name)) {
          continue;
        }
        if (p.value.find('\\') == std::string_view::npos) {
          out = p.value;
          return true;
        }
        scratch.clear();
        collector::append_sd_unescaped(p.value, scratch);
        out = scratch;
        return true;
      }
      return false;
    }
  }
  return false;
}

// Per-thread buffers for match(), so the hot path reuses memory instead of allocating. Shared by
// every compiled_rules on the thread: `hits` is all zeros between calls.
struct match_scratch {
  std::vector<std::uint32_t> hits;     // per rule: how many of its patterns matched
  std::vector<std::uint32_t> touched;  // rules with hits > 0
  std::vector<int> set_hits;
  std::string lowered;                    // the literal prefilter's
  std::vector<std::uint32_t> candidates;  // the literal prefilter's
  std::vector<std::string> buffers;       // per field slot, for texts that are built
  std::vector<std::string_view> texts;
  std::vector<unsigned char> present;
  std::vector<re2::StringPiece> groups;
  std::vector<rule_match> ratio_matches;  // `match` hits of ratio rules, until their `of`
};

match_scratch& scratch() {
  thread_local match_scratch s;
  return s;
}

// Most work (the candidates' RE2 program sizes times the text's length) for which a field's
// prefilter candidates are matched one by one (see lean_options): RE2's NFA costs about that.
// Beyond it (long messages, lines stuffed with rules' literals) the set scans the text once.
constexpr std::size_t max_candidate_work = std::size_t{1} << 17;

// Resets the touched counters even if an allocation throws half-way.
struct hits_reset {
  match_scratch& s;
  ~hits_reset() {
    for (std::uint32_t r : s.touched) s.hits[r] = 0;
    s.touched.clear();
  }
};

}  // namespace

struct compiled_rules::impl {
  // Patterns of one field in one set: those the literal prefilter guards (the set runs only
  // when the prefilter cannot narrow them down to a few), or those that need no literal and run
  // on every event.
  struct pattern_group {
    std::unique_ptr<RE2::Set> set;
    std::optional<literal_prefilter> prefilter;  // none: the set runs on every event
    std::vector<std::uint32_t> set_rule;         // set index -> rule index
    std::vector<const RE2*> set_regex;           // set index -> its own RE2 (candidates, fallback)
    std::vector<std::uint32_t> program_size;     // set index -> set_regex's ProgramSize()
  };
  // A pattern on its way into a group.
  struct slot_pattern {
    std::string pattern;
    std::string error_prefix;
    std::uint32_t rule = 0;
    const RE2* regex = nullptr;
  };
  // One event field that some rule matches, with every rule's pattern for it in at most two
  // sets.
  struct field_slot {
    std::string field;                   // as written: "message", "fields.user"
    field_ref ref;                       // views into `field`, fixed up once the slots stop moving
    std::vector<slot_pattern> patterns;  // until the groups are built
    std::vector<pattern_group> groups;
  };
  // One pattern of one rule, compiled alone for captures.
  struct rule_pattern {
    std::unique_ptr<RE2> re;
    std::uint32_t slot = 0;
    int submatches = 0;  // 1 + the highest named group index; 0 = no named groups
    std::vector<std::pair<int, std::string>> named_groups;  // by group index
  };
  // The patterns of one rule's `match`, or of a ratio rule's `of` (after every rule's own).
  struct rule_entry {
    std::vector<rule_pattern> patterns;
    std::uint32_t needed = 0;  // patterns that must hit
    int min_severity = -1;
    std::uint32_t rule = 0;  // index into definitions()
    bool ratio = false;      // the `match` of a ratio rule: reported with its base
    bool base = false;       // the `of` of a ratio rule
    bool metric = false;     // a metric's: `rule` indexes metric_definitions()
  };

  std::vector<field_slot> slots;
  std::vector<rule_entry> rules;
  mutable std::atomic<std::uint64_t> fallbacks{0};

  static void build_groups(field_slot& slot, const RE2::Options& options,
                           const RE2::Options& set_options, std::vector<std::string>& errors);
  static std::size_t candidate_work(const pattern_group& group,
                                    const std::vector<std::uint32_t>& candidates) {
    std::size_t sum = 0;
    for (const std::uint32_t k : candidates) sum += group.program_size[k];
    return sum;
  }
};

// Splits a field's patterns into the group the literal prefilter guards and the group that runs
// on every event, and compiles their sets.
void compiled_rules::impl::build_groups(field_slot& slot, const RE2::Options& options,
                                        const RE2::Options& set_options,
                                        std::vector<std::string>& errors) {
  std::vector<std::vector<std::string>> literals;
  literals.reserve(slot.patterns.size());
  for (const auto& p : slot.patterns) {
    literals.push_back(literal_prefilter::required_literals(p.pattern, options));
  }
  for (const bool filtered : {true, false}) {
    pattern_group group;
    group.set = std::make_unique<RE2::Set>(set_options, RE2::UNANCHORED);
    std::vector<std::vector<std::string>> group_literals;
    for (std::size_t k = 0; k < slot.patterns.size(); ++k) {
      if (literals[k].empty() == filtered) continue;
      const auto& p = slot.patterns[k];
      std::string set_error;
      if (group.set->Add(p.pattern, &set_error) < 0) {
        errors.push_back(p.error_prefix + set_error);
        continue;
      }
      group.set_rule.push_back(p.rule);
      group.set_regex.push_back(p.regex);
      group.program_size.push_back(static_cast<std::uint32_t>(p.regex->ProgramSize()));
      if (filtered) group_literals.push_back(literals[k]);
    }
    if (group.set_rule.empty()) continue;
    if (!group.set->Compile()) {
      errors.push_back("the " + std::to_string(group.set_rule.size()) + " patterns for field " +
                       slot.field + " need more than 64 MiB to compile");
    }
    if (filtered) group.prefilter.emplace(group_literals);
    slot.groups.push_back(std::move(group));
  }
  slot.patterns = {};
}

compiled_rules::compiled_rules(std::vector<rule_definition> rules)
    : compiled_rules(rule_files{std::move(rules), {}}) {}

compiled_rules::compiled_rules(rule_files files)
    : rules_(std::move(files.rules)),
      metrics_(std::move(files.metrics)),
      impl_(std::make_unique<impl>()) {
  std::vector<std::string> errors;
  RE2::Options options;
  options.set_log_errors(false);
  // The sets only say which patterns match: no captures, and room for the DFA of many patterns
  // (memory is taken as states are built, not up front).
  RE2::Options set_options = options;
  set_options.set_never_capture(true);
  set_options.set_max_mem(std::int64_t{64} << 20);
  // A pattern's own RE2 checks the prefilter's few candidates on a line. Given too little
  // memory for a DFA, RE2 runs its NFA instead: on a log line that is faster than building a DFA
  // for each pattern, and 10 000 patterns do not each keep ~13 KB of DFA states. Patterns too
  // large for it, and those with named groups (whose captures are searched for in whole
  // messages, where a DFA first finds the match), get RE2's default.
  RE2::Options lean_options = options;
  lean_options.set_max_mem(std::int64_t{16} << 10);

  std::map<std::string, std::uint32_t, std::less<>> slot_of;
  // One entry: the patterns of a rule's `match` (or a ratio rule's `of`), or of a metric's.
  const auto add_entry = [&](std::size_t owner, bool metric, const std::string& what,
                             const config::source_location& where, int min_severity,
                             const std::vector<field_pattern>& patterns, const char* key) {
    const auto e = static_cast<std::uint32_t>(impl_->rules.size());
    impl::rule_entry& entry = impl_->rules.emplace_back();
    entry.min_severity = min_severity;
    entry.rule = static_cast<std::uint32_t>(owner);
    entry.metric = metric;
    if (patterns.empty()) {
      errors.push_back(config::location_prefix(where) + what + ": " + key + " must not be empty");
      return;
    }
    for (const field_pattern& p : patterns) {
      const std::string prefix =
          config::location_prefix(p.where) + what + ": " + key + "." + p.field + ": ";
      if (!parse_field(p.field)) {
        errors.push_back(prefix + "unknown field");
        continue;
      }
      auto re = std::make_unique<RE2>(p.pattern, lean_options);
      if (re->error_code() == RE2::ErrorPatternTooLarge || !re->NamedCapturingGroups().empty()) {
        re = std::make_unique<RE2>(p.pattern, options);
      }
      if (!re->ok()) {
        errors.push_back(prefix + re->error());
        continue;
      }
      auto [it, fresh] =
          slot_of.try_emplace(p.field, static_cast<std::uint32_t>(impl_->slots.size()));
      if (fresh) {
        impl::field_slot slot;
        slot.field = p.field;
        impl_->slots.push_back(std::move(slot));
      }
      impl_->slots[it->second].patterns.push_back({p.pattern, prefix, e, re.get()});

      impl::rule_pattern compiled;
      compiled.slot = it->second;
      for (const auto& [name, index] : re->NamedCapturingGroups()) {
        compiled.named_groups.emplace_back(index, name);
        compiled.submatches = std::max(compiled.submatches, index + 1);
      }
      std::sort(compiled.named_groups.begin(), compiled.named_groups.end());
      compiled.re = std::move(re);
      impl_->rules[e].patterns.push_back(std::move(compiled));
    }
    impl_->rules[e].needed = static_cast<std::uint32_t>(patterns.size());
  };
  // Entries: the rules, then the ratio rules' `of`, then the metrics.
  impl_->rules.reserve(rules_.size() + metrics_.size());
  for (std::size_t r = 0; r < rules_.size(); ++r) {
    const rule_definition& def = rules_[r];
    add_entry(r, false, "rule " + def.name, def.where, def.min_severity, def.match, "match");
  }
  for (std::size_t r = 0; r < rules_.size(); ++r) {
    const rule_definition& def = rules_[r];
    if (def.kind != rule_kind::ratio) continue;
    impl_->rules[r].ratio = true;
    // min_severity selects the numerator, not the base.
    add_entry(r, false, "rule " + def.name, def.where, -1, def.of, "ratio.of");
    impl_->rules.back().base = true;
  }
  for (std::size_t m = 0; m < metrics_.size(); ++m) {
    const metric_definition& def = metrics_[m];
    add_entry(m, true, "metric " + def.name, def.where, def.min_severity, def.match, "match");
  }
  for (impl::field_slot& slot : impl_->slots) {
    slot.ref = *parse_field(slot.field);
    impl::build_groups(slot, options, set_options, errors);
  }
  if (!errors.empty()) throw config::config_error(std::move(errors));
}

compiled_rules::~compiled_rules() = default;

std::uint64_t compiled_rules::set_fallbacks() const {
  return impl_->fallbacks.load(std::memory_order_relaxed);
}

void compiled_rules::match(const collector::event& ev, std::vector<rule_match>& out) const {
  const impl& m = *impl_;
  match_scratch& s = scratch();
  if (s.hits.size() < m.rules.size()) s.hits.resize(m.rules.size(), 0);
  if (s.buffers.size() < m.slots.size()) {
    s.buffers.resize(m.slots.size());
    s.texts.resize(m.slots.size());
    s.present.resize(m.slots.size());
  }
  hits_reset reset{s};

  // One scan per field: which patterns (of any rule) match it.
  for (std::size_t i = 0; i < m.slots.size(); ++i) {
    const impl::field_slot& slot = m.slots[i];
    std::string_view text;
    s.present[i] = field_text(ev, slot.ref, s.buffers[i], text) ? 1 : 0;
    if (s.present[i] == 0) continue;  // rules on this field cannot match
    s.texts[i] = text;
    const re2::StringPiece piece(text.data(), text.size());
    for (const impl::pattern_group& group : slot.groups) {
      const auto verdict = group.prefilter
                               ? group.prefilter->candidates(text, s.lowered, s.candidates)
                               : literal_prefilter::verdict::any;
      if (verdict == literal_prefilter::verdict::none) continue;
      if (verdict == literal_prefilter::verdict::some &&
          impl::candidate_work(group, s.candidates) <= max_candidate_work / text.size()) {
        // A few patterns, each on its own (RE2's NFA), where the set's DFA would build states
        // that hold every pattern.
        for (const std::uint32_t k : s.candidates) {
          if (RE2::PartialMatch(piece, *group.set_regex[k])) {
            const std::uint32_t r = group.set_rule[k];
            if (s.hits[r]++ == 0) s.touched.push_back(r);
          }
        }
        continue;
      }
      RE2::Set::ErrorInfo info{RE2::Set::kNoError};
      // Most lines match nothing. Asking only "any match?" first stops at the first match and
      // spares the per-call index set RE2 allocates when asked which patterns matched.
      const bool any = group.set->Match(piece, nullptr, &info);
      if (!any && info.kind == RE2::Set::kNoError) continue;
      const bool listed = any && group.set->Match(piece, &s.set_hits, &info);
      if (!listed) {
        if (info.kind == RE2::Set::kNoError) continue;
        // The set's DFA gave up (out of memory on a pathological input): answer the same
        // question one pattern at a time.
        m.fallbacks.fetch_add(1, std::memory_order_relaxed);
        s.set_hits.clear();
        for (std::size_t k = 0; k < group.set_regex.size(); ++k) {
          if (RE2::PartialMatch(piece, *group.set_regex[k])) {
            s.set_hits.push_back(static_cast<int>(k));
          }
        }
      }
      for (int k : s.set_hits) {
        const std::uint32_t r = group.set_rule[static_cast<std::size_t>(k)];
        if (s.hits[r]++ == 0) s.touched.push_back(r);
      }
    }
  }
  if (s.touched.empty()) return;

  // Candidates: every pattern hit. Report them in definition order; a ratio rule's `match`
  // entry comes before its `of` entry, which reports both.
  std::sort(s.touched.begin(), s.touched.end());
  s.ratio_matches.clear();
  for (std::uint32_t e : s.touched) {
    const impl::rule_entry& entry = m.rules[e];
    if (s.hits[e] != entry.needed) continue;
    if (entry.min_severity >= 0 && (ev.severity < 0 || ev.severity > entry.min_severity)) continue;
    rule_match result;
    result.rule = entry.rule;
    result.metric = entry.metric;
    for (const impl::rule_pattern& p : entry.patterns) {
      if (p.submatches == 0) continue;
      const std::string_view text = s.texts[p.slot];
      s.groups.resize(static_cast<std::size_t>(p.submatches));
      // Cannot fail: the set said it matches.
      p.re->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), RE2::UNANCHORED,
                  s.groups.data(), p.submatches);
      for (const auto& [index, name] : p.named_groups) {
        const re2::StringPiece& group = s.groups[static_cast<std::size_t>(index)];
        if (group.data() == nullptr) continue;  // an optional group that did not take part
        result.captures.emplace_back(name, std::string(group.data(), group.size()));
      }
    }
    if (entry.ratio) {
      s.ratio_matches.push_back(std::move(result));
      continue;
    }
    if (entry.base) {
      const auto main = std::find_if(s.ratio_matches.begin(), s.ratio_matches.end(),
                                     [&](const rule_match& r) { return r.rule == entry.rule; });
      result.base_only = main == s.ratio_matches.end();
      // `of`'s groups last, so they win over `match`'s of the same name: the numerator then
      // groups as its base events do.
      if (!result.base_only) {
        result.captures.insert(result.captures.begin(), main->captures.begin(),
                               main->captures.end());
      }
    }
    out.push_back(std::move(result));
  }
}

bool compiled_rules::field_value(const collector::event& ev, std::string_view field,
                                 std::string& out) {
  const auto ref = parse_field(field);
  if (!ref) return false;
  std::string_view text;
  if (!field_text(ev, *ref, out, text)) return false;
  // field_text leaves views into the event as they are; callers get a copy.
  if (text.data() != out.data()) out.assign(text.data(), text.size());
  return true;
}

}  // namespace tocsin::rules
