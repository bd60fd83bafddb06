#include "config/oncall_config.hpp"

#include <algorithm>
#include <set>
#include <string>

#include "core/timezone.hpp"

namespace tocsin::config {
namespace {

using entry = yaml_entry;

constexpr std::string_view oncall_keys[] = {"users", "schedules", "escalation_policies",
                                            "signing_key_file"};
constexpr std::string_view user_keys[] = {"name", "email", "slack", "telegram", "token_file"};
constexpr std::string_view schedule_keys[] = {"name", "time_zone", "layers", "overrides", "ics"};
constexpr std::string_view layer_keys[] = {"name", "start", "rotation", "users", "restrict"};
constexpr std::string_view restrict_keys[] = {"times", "weekdays"};
constexpr std::string_view override_keys[] = {"user", "start", "end"};
constexpr std::string_view policy_keys[] = {"name", "steps", "repeat", "repeat_after"};
constexpr std::string_view step_keys[] = {"after", "notify"};
constexpr std::string_view target_keys[] = {"schedule", "user"};
constexpr std::string_view weekday_names[] = {"sunday",   "monday", "tuesday", "wednesday",
                                              "thursday", "friday", "saturday"};

std::optional<int> two_digits(std::string_view text, std::size_t at) {
  if (at + 2 > text.size()) return std::nullopt;
  const char a = text[at];
  const char b = text[at + 1];
  if (a < '0' || a > '9' || b < '0' || b > '9') return std::nullopt;
  return (a - '0') * 10 + (b - '0');
}

// `HH:MM` → minutes since midnight; 24:00 only when `end`.
std::optional<int> parse_clock(std::string_view text, bool end) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  auto h = two_digits(text, 0);
  auto m = two_digits(text, 3);
  if (!h || !m || *m > 59) return std::nullopt;
  if (*h == 24 && *m == 0 && end) return 24 * 60;
  if (*h > 23) return std::nullopt;
  return *h * 60 + *m;
}

std::optional<int> weekday_number(std::string_view name) {
  for (int i = 0; i < 7; ++i) {
    if (name == weekday_names[i]) return i;
  }
  return std::nullopt;
}

// Reads an oncall section, checking names against each other once all are known.
class oncall_loader {
 public:
  oncall_loader(yaml_reader& reader, oncall_config& out) : r_(reader), out_(out) {}

  void load(const entry& at) {
    out_.where = r_.where(at.mark());
    const auto entries = r_.mapping(at, oncall_keys);
    if (!entries) return;
    for (const entry& e : *entries) {
      if (e.name == "users") {
        for_each_item(e, [&](const entry& item) { load_user(item); });
      } else if (e.name == "schedules") {
        for_each_item(e, [&](const entry& item) { load_schedule(item); });
      } else if (e.name == "escalation_policies") {
        for_each_item(e, [&](const entry& item) { load_policy(item); });
      } else if (e.name == "signing_key_file") {
        if (auto v = r_.text(e)) out_.signing_key_file = *v;
      }
    }
    check_references();
  }

 private:
  struct reference {
    std::string name;
    YAML::Mark mark;
    std::string path;
  };

  template <typename fn>
  void for_each_item(const entry& e, const fn& f) {
    if (auto items = r_.list(e)) {
      for (const entry& item : *items) f(item);
    }
  }

  // A unique name among `seen`; reported when repeated.
  std::optional<std::string> unique_name(const entry& e, std::map<std::string, YAML::Mark>& seen,
                                         std::string_view kind) {
    auto v = r_.text(e);
    if (!v) return std::nullopt;
    auto [it, fresh] = seen.emplace(*v, e.mark());
    if (!fresh) {
      r_.error(e.mark(), e.path,
               "duplicate " + std::string(kind) + " name " + quote(*v) + " (first on line " +
                   std::to_string(it->second.line + 1) + ")");
    }
    return v;
  }

  std::optional<std::chrono::local_seconds> local_time(const entry& e) {
    auto v = r_.text(e);
    if (!v) return std::nullopt;
    auto t = parse_local_time(*v);
    if (!t) {
      r_.error(e.mark(), e.path, "expected a local time like 2026-11-30T09:00, got " + quote(*v));
    }
    return t;
  }

  void load_user(const entry& at) {
    const auto entries = r_.mapping(at, user_keys, /*null_is_empty=*/false);
    if (!entries) return;
    constexpr std::string_view required[] = {"name"};
    r_.require(at, *entries, required);
    oncall_user user;
    user.where = r_.where(at.mark());
    for (const entry& e : *entries) {
      if (e.name == "name") {
        if (auto v = unique_name(e, user_names_, "user")) user.name = *v;
      } else if (auto v = r_.text(e)) {
        if (e.name == "email") {
          // The address a page is sent to (RCPT TO and the To header): no spaces or controls.
          const bool usable =
              v->find('@') != std::string::npos && std::none_of(v->begin(), v->end(), [](char c) {
                return static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>' || c == ',';
              });
          if (!usable) {
            r_.error(e.mark(), e.path, "expected an email address, got " + quote(*v));
            continue;
          }
          user.email = *v;
        }
        if (e.name == "slack") {
          // A member id goes into a mention, <@ID>, as it is: letters and digits only.
          if (v->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != std::string::npos) {
            r_.error(e.mark(), e.path,
                     "expected a Slack member id like U0123ABCD (Profile → Copy member ID), got " +
                         quote(*v));
            continue;
          }
          user.slack = *v;
        }
        if (e.name == "telegram") user.telegram = *v;
        if (e.name == "token_file") user.token_file = *v;
      }
    }
    out_.users.push_back(std::move(user));
  }

  void load_schedule(const entry& at) {
    const auto entries = r_.mapping(at, schedule_keys, /*null_is_empty=*/false);
    if (!entries) return;
    constexpr std::string_view required[] = {"name"};
    r_.require(at, *entries, required);
    oncall_schedule schedule;
    schedule.where = r_.where(at.mark());
    const entry* layers = nullptr;
    const entry* ics = nullptr;
    const entry* overrides = nullptr;
    for (const entry& e : *entries) {
      if (e.name == "name") {
        if (auto v = unique_name(e, schedule_names_, "schedule")) schedule.name = *v;
      } else if (e.name == "time_zone") {
        auto v = r_.text(e);
        if (!v) continue;
        // An IANA name (or UTC): offsets and "local" would hide daylight-saving changes.
        if (*v != "UTC" && (v->find('/') == std::string::npos || !input_timezone::from_name(*v))) {
          r_.error(e.mark(), e.path,
                   "unknown time zone " + quote(*v) + " (an IANA name like Europe/Madrid, or UTC)");
          continue;
        }
        schedule.time_zone = *v;
      } else if (e.name == "layers") {
        layers = &e;
        for_each_item(e, [&](const entry& item) { load_layer(item, schedule); });
      } else if (e.name == "overrides") {
        overrides = &e;
        for_each_item(e, [&](const entry& item) { load_override(item, schedule); });
      } else if (e.name == "ics") {
        ics = &e;
        if (auto v = r_.text(e)) schedule.ics = *v;
      }
    }
    if (layers != nullptr && ics != nullptr) {
      r_.error(ics->key_mark, ics->path, "a schedule has either layers or an ics file, not both");
    } else if (layers == nullptr && ics == nullptr && overrides == nullptr) {
      r_.error(at.mark(), at.path, "a schedule needs layers, overrides or an ics file");
    }
    out_.schedules.push_back(std::move(schedule));
  }

  void load_layer(const entry& at, oncall_schedule& schedule) {
    const auto entries = r_.mapping(at, layer_keys, /*null_is_empty=*/false);
    if (!entries) return;
    constexpr std::string_view required[] = {"start", "rotation", "users"};
    r_.require(at, *entries, required);
    oncall_layer layer;
    layer.where = r_.where(at.mark());
    layer.name = "layer" + std::to_string(schedule.layers.size() + 1);
    for (const entry& e : *entries) {
      if (e.name == "name") {
        if (auto v = r_.text(e)) layer.name = *v;
      } else if (e.name == "start") {
        if (auto t = local_time(e)) layer.start = *t;
      } else if (e.name == "rotation") {
        load_rotation(e, layer);
      } else if (e.name == "users") {
        auto names = r_.text_list(e);
        if (!names) continue;
        if (names->empty()) r_.error(e.mark(), e.path, "a layer needs at least one user");
        for (std::size_t i = 0; i < names->size(); ++i) {
          user_references_.push_back(
              {(*names)[i], e.value[i].Mark(), e.path + "[" + std::to_string(i) + "]"});
        }
        layer.users = std::move(*names);
      } else if (e.name == "restrict") {
        layer.restrict = load_restriction(e);
      }
    }
    schedule.layers.push_back(std::move(layer));
  }

  void load_rotation(const entry& e, oncall_layer& layer) {
    auto v = r_.text(e);
    if (!v) return;
    const char unit = v->empty() ? '\0' : v->back();
    const std::string digits = v->empty() ? "" : v->substr(0, v->size() - 1);
    int n = 0;
    bool ok = !digits.empty() && digits.size() <= 4 &&
              digits.find_first_not_of("0123456789") == std::string::npos;
    if (ok) n = std::stoi(digits);
    if (!ok || n == 0 || (unit != 'h' && unit != 'd' && unit != 'w')) {
      r_.error(e.mark(), e.path,
               "expected a rotation like 1w, 1d or 12h (hours, days or weeks), got " + quote(*v));
      return;
    }
    layer.rotation_count = n;
    layer.rotation = unit == 'h'   ? rotation_unit::hours
                     : unit == 'd' ? rotation_unit::days
                                   : rotation_unit::weeks;
  }

  std::optional<oncall_restriction> load_restriction(const entry& at) {
    const auto entries = r_.mapping(at, restrict_keys);
    if (!entries) return std::nullopt;
    oncall_restriction restriction;
    for (const entry& e : *entries) {
      auto items = r_.text_list(e);
      if (!items) continue;
      for (std::size_t i = 0; i < items->size(); ++i) {
        const std::string& item = (*items)[i];
        const YAML::Mark mark = e.value[i].Mark();
        const std::string path = e.path + "[" + std::to_string(i) + "]";
        if (e.name == "times") {
          const auto dash = item.find('-');
          auto begin =
              dash == std::string::npos ? std::nullopt : parse_clock(item.substr(0, dash), false);
          auto end =
              dash == std::string::npos ? std::nullopt : parse_clock(item.substr(dash + 1), true);
          if (!begin || !end) {
            r_.error(mark, path,
                     "expected a local time range like 20:00-08:00, got " + quote(item));
            continue;
          }
          restriction.times.push_back({*begin, *end % (24 * 60)});
        } else {
          // Alertmanager's weekdays: a day or an inclusive range `monday:friday`.
          const auto colon = item.find(':');
          auto first = weekday_number(item.substr(0, colon));
          auto last = colon == std::string::npos ? first : weekday_number(item.substr(colon + 1));
          if (!first || !last || *last < *first) {
            r_.error(mark, path,
                     "expected a weekday or a range like monday:friday, got " + quote(item));
            continue;
          }
          for (int d = *first; d <= *last; ++d) restriction.weekdays.push_back(d);
        }
      }
    }
    return restriction;
  }

  void load_override(const entry& at, oncall_schedule& schedule) {
    const auto entries = r_.mapping(at, override_keys, /*null_is_empty=*/false);
    if (!entries) return;
    r_.require(at, *entries, override_keys);
    oncall_override o;
    o.where = r_.where(at.mark());
    bool times_ok = true;
    for (const entry& e : *entries) {
      if (e.name == "user") {
        if (auto v = r_.text(e)) {
          o.user = *v;
          user_references_.push_back({*v, e.mark(), e.path});
        }
      } else {
        auto t = local_time(e);
        times_ok = times_ok && t.has_value();
        if (t) (e.name == "start" ? o.start : o.end) = *t;
      }
    }
    if (times_ok && o.end <= o.start && entries->size() == 3) {
      r_.error(at.mark(), at.path, "an override must end after it starts");
      return;
    }
    schedule.overrides.push_back(std::move(o));
  }

  void load_policy(const entry& at) {
    const auto entries = r_.mapping(at, policy_keys, /*null_is_empty=*/false);
    if (!entries) return;
    constexpr std::string_view required[] = {"name", "steps"};
    r_.require(at, *entries, required);
    escalation_policy policy;
    policy.where = r_.where(at.mark());
    for (const entry& e : *entries) {
      if (e.name == "name") {
        if (auto v = unique_name(e, policy_names_, "escalation policy")) policy.name = *v;
      } else if (e.name == "steps") {
        auto items = r_.list(e);
        if (!items) continue;
        for (const entry& item : *items) load_step(item, policy);
        if (items->empty()) r_.error(e.mark(), e.path, "a policy needs at least one step");
      } else if (e.name == "repeat") {
        if (auto v = r_.count(e, 0, 100)) policy.repeat = static_cast<int>(*v);
      } else if (e.name == "repeat_after") {
        policy.repeat_after = r_.span(e);
      }
    }
    const duration again = policy.repeat_after.value_or(
        policy.steps.empty() ? duration{0} : policy.steps.back().after);
    if (policy.repeat > 0 && again.count() == 0) {
      // Every repeat would page at once, all in the same tick.
      r_.error(at.mark(), at.path, "repeat needs repeat_after (the last step's after is 0)");
    }
    out_.escalation_policies.push_back(std::move(policy));
  }

  void load_step(const entry& at, escalation_policy& policy) {
    const auto entries = r_.mapping(at, step_keys, /*null_is_empty=*/false);
    if (!entries) return;
    constexpr std::string_view required[] = {"notify"};
    r_.require(at, *entries, required);
    escalation_step step;
    step.where = r_.where(at.mark());
    for (const entry& e : *entries) {
      if (e.name == "after") {
        if (auto v = r_.span(e)) step.after = *v;
      } else if (e.name == "notify") {
        auto items = r_.list(e);
        if (!items) continue;
        for (const entry& item : *items) load_target(item, step);
        if (items->empty()) r_.error(e.mark(), e.path, "a step needs someone to notify");
      }
    }
    policy.steps.push_back(std::move(step));
  }

  void load_target(const entry& at, escalation_step& step) {
    const auto entries = r_.mapping(at, target_keys, /*null_is_empty=*/false);
    if (!entries) return;
    if (entries->size() != 1) {
      r_.error(at.mark(), at.path, "each notify item names one schedule or one user");
      return;
    }
    const entry& e = entries->front();
    auto v = r_.text(e);
    if (!v) return;
    escalation_target target;
    if (e.name == "schedule") {
      target.schedule = *v;
      schedule_references_.push_back({*v, e.mark(), e.path});
    } else {
      target.user = *v;
      user_references_.push_back({*v, e.mark(), e.path});
    }
    step.notify.push_back(std::move(target));
  }

  void check(const std::vector<reference>& refs, const std::map<std::string, YAML::Mark>& known,
             std::string_view kind) {
    std::vector<std::string_view> names;
    names.reserve(known.size());
    for (const auto& [name, mark] : known) names.push_back(name);
    for (const reference& ref : refs) {
      if (!known.contains(ref.name)) {
        r_.error(
            ref.mark, ref.path,
            "unknown " + std::string(kind) + " " + quote(ref.name) + suggestion(ref.name, names));
      }
    }
  }

  void check_references() {
    check(user_references_, user_names_, "user");
    check(schedule_references_, schedule_names_, "schedule");
  }

  yaml_reader& r_;
  oncall_config& out_;
  std::map<std::string, YAML::Mark> user_names_, schedule_names_, policy_names_;
  std::vector<reference> user_references_, schedule_references_;
};

}  // namespace

std::optional<std::chrono::local_seconds> parse_local_time(std::string_view text) {
  using namespace std::chrono;
  if (text.size() != 10 && text.size() != 16 && text.size() != 19) return std::nullopt;
  if (text[4] != '-' || text[7] != '-') return std::nullopt;
  auto y_hi = two_digits(text, 0);
  auto y_lo = two_digits(text, 2);
  auto mo = two_digits(text, 5);
  auto d = two_digits(text, 8);
  if (!y_hi || !y_lo || !mo || !d) return std::nullopt;
  const year_month_day date{year{*y_hi * 100 + *y_lo}, month{static_cast<unsigned>(*mo)},
                            day{static_cast<unsigned>(*d)}};
  if (!date.ok()) return std::nullopt;
  int hh = 0;
  int mm = 0;
  int ss = 0;
  if (text.size() >= 16) {
    if (text[10] != 'T' && text[10] != ' ') return std::nullopt;
    auto clock = parse_clock(text.substr(11, 5), false);
    if (!clock) return std::nullopt;
    hh = *clock / 60;
    mm = *clock % 60;
  }
  if (text.size() == 19) {
    auto s = text[16] == ':' ? two_digits(text, 17) : std::nullopt;
    if (!s || *s > 59) return std::nullopt;
    ss = *s;
  }
  return local_days{date} + hours(hh) + minutes(mm) + seconds(ss);
}

void load_oncall(yaml_reader& reader, const yaml_entry& at, oncall_config& out) {
  oncall_loader(reader, out).load(at);
}

}  // namespace tocsin::config
