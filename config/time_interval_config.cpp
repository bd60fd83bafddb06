#include "config/time_interval_config.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

#include "core/timezone.hpp"

namespace tocsin::config {
namespace {

using entry = yaml_entry;

constexpr std::string_view interval_keys[] = {"name", "time_intervals"};
constexpr std::string_view entry_keys[] = {"times",  "weekdays", "days_of_month",
                                           "months", "years",    "location"};
constexpr std::string_view time_range_keys[] = {"start_time", "end_time"};
constexpr std::string_view weekday_names[] = {"sunday",   "monday", "tuesday", "wednesday",
                                              "thursday", "friday", "saturday"};
constexpr std::string_view month_names[] = {"january",   "february", "march",    "april",
                                            "may",       "june",     "july",     "august",
                                            "september", "october",  "november", "december"};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Go's strconv.Atoi as Alertmanager uses it: an optional sign and digits, nothing else.
std::optional<int> integer(std::string_view text) {
  std::size_t i = 0;
  bool negative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    i = 1;
  }
  if (i == text.size() || text.size() - i > 9) return std::nullopt;
  int n = 0;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    n = n * 10 + (text[i] - '0');
  }
  return negative ? -n : n;
}

std::optional<int> index_of(std::string_view name, names list, int first) {
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (name == list[i]) return static_cast<int>(i) + first;
  }
  return std::nullopt;
}

// "HH:MM" from 00:00 to 23:59, or 24:00 (Alertmanager's validTime) → minutes since midnight.
std::optional<int> clock_minutes(std::string_view text) {
  if (text == "24:00") return 24 * 60;
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  const auto digit = [&](std::size_t i) { return text[i] >= '0' && text[i] <= '9'; };
  if (!digit(0) || !digit(1) || !digit(3) || !digit(4)) return std::nullopt;
  const int h = (text[0] - '0') * 10 + (text[1] - '0');
  const int m = (text[3] - '0') * 10 + (text[4] - '0');
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

enum class field { weekdays, days_of_month, months, years };

class interval_loader {
 public:
  interval_loader(yaml_reader& reader, std::vector<time_interval_config>& out)
      : r_(reader), out_(out) {}

  void load(const entry& at) {
    auto items = r_.list(at);
    if (!items) return;
    for (const entry& item : *items) load_interval(item);
  }

 private:
  void load_interval(const entry& at) {
    const auto entries = r_.mapping(at, interval_keys, /*null_is_empty=*/false);
    if (!entries) return;
    constexpr std::string_view required[] = {"name"};
    r_.require(at, *entries, required);
    time_interval_config interval;
    interval.where = r_.where(at.mark());
    for (const entry& e : *entries) {
      if (e.name == "name") {
        auto v = r_.text(e);
        if (!v) continue;
        const auto same = std::find_if(out_.begin(), out_.end(),
                                       [&](const time_interval_config& t) { return t.name == *v; });
        if (same != out_.end()) {
          r_.error(e.mark(), e.path,
                   "duplicate time interval " + quote(*v) + " (first on line " +
                       std::to_string(same->where.line) + ")");
        }
        interval.name = *v;
      } else if (e.name == "time_intervals") {
        auto list = r_.list(e);
        if (!list) continue;
        for (const entry& item : *list) {
          if (auto spec = load_entry(item)) interval.entries.push_back(std::move(*spec));
        }
      }
    }
    out_.push_back(std::move(interval));
  }

  std::optional<time_interval_entry> load_entry(const entry& at) {
    // An empty entry (`- {}`) holds every time, as in Alertmanager.
    const auto entries = r_.mapping(at, entry_keys);
    if (!entries) return std::nullopt;
    time_interval_entry spec;
    spec.where = r_.where(at.mark());
    for (const entry& e : *entries) {
      if (e.name == "times") {
        auto list = r_.list(e);
        if (!list) continue;
        spec.times.emplace();
        for (const entry& item : *list) {
          if (auto range = load_time_range(item)) spec.times->push_back(*range);
        }
      } else if (e.name == "location") {
        auto v = r_.text(e, /*allow_empty=*/true);
        if (!v) continue;
        // Go's time.LoadLocation: "" and "UTC" are UTC, "Local" the machine's zone.
        std::string name = v->empty() ? "UTC" : *v == "Local" ? "local" : *v;
        if (!tocsin::input_timezone::from_name(name)) {
          r_.error(e.mark(), e.path,
                   "unknown time zone " + quote(*v) +
                       "; expected an IANA name such as Europe/Berlin, UTC or Local");
          continue;
        }
        spec.location = std::move(name);
      } else {
        const field kind = e.name == "weekdays"        ? field::weekdays
                           : e.name == "days_of_month" ? field::days_of_month
                           : e.name == "months"        ? field::months
                                                       : field::years;
        auto list = r_.list(e);
        if (!list) continue;
        std::vector<inclusive_range> ranges;
        for (const entry& item : *list) {
          if (auto range = load_range(item, kind)) ranges.push_back(*range);
        }
        auto& target = kind == field::weekdays        ? spec.weekdays
                       : kind == field::days_of_month ? spec.days_of_month
                       : kind == field::months        ? spec.months
                                                      : spec.years;
        target = std::move(ranges);
      }
    }
    return spec;
  }

  std::optional<minute_range> load_time_range(const entry& at) {
    const auto entries = r_.mapping(at, time_range_keys, /*null_is_empty=*/false);
    if (!entries) return std::nullopt;
    r_.require(at, *entries, time_range_keys);
    std::optional<int> start, end;
    for (const entry& e : *entries) {
      auto v = r_.text(e);
      if (!v) continue;
      auto minutes = clock_minutes(*v);
      if (!minutes) {
        r_.error(e.mark(), e.path, "expected a time HH:MM from 00:00 to 24:00, got " + quote(*v));
        continue;
      }
      (e.name == "start_time" ? start : end) = minutes;
    }
    if (!start || !end) return std::nullopt;
    if (*start >= *end) {
      // Alertmanager's rule: a range that crosses midnight is two ranges.
      r_.error(at.mark(), at.path,
               "start_time must be before end_time (a range across midnight is two: "
               "22:00-24:00 and 00:00-06:00)");
      return std::nullopt;
    }
    return minute_range{*start, *end};
  }

  // One member: a weekday or month name (any case), or a number.
  std::optional<int> member(std::string_view text, field kind, const entry& at) {
    if (kind == field::weekdays) {
      if (auto d = index_of(text, weekday_names, 0)) return d;
      r_.error(at.mark(), at.path,
               quote(std::string(text)) + " is not a weekday" + suggestion(text, weekday_names));
      return std::nullopt;
    }
    if (kind == field::months) {
      if (auto m = index_of(text, month_names, 1)) return m;
      auto n = integer(text);
      if (!n) {
        r_.error(at.mark(), at.path,
                 quote(std::string(text)) + " is not a month" + suggestion(text, month_names));
        return std::nullopt;
      }
      if (*n < 1 || *n > 12) {
        r_.error(at.mark(), at.path, "month " + std::to_string(*n) + " is out of range 1-12");
        return std::nullopt;
      }
      return n;
    }
    auto n = integer(text);
    if (!n) {
      r_.error(at.mark(), at.path,
               "expected " + std::string(kind == field::years ? "a year" : "a day of the month") +
                   ", got " + quote(std::string(text)));
      return std::nullopt;
    }
    if (kind == field::days_of_month && (*n == 0 || *n < -31 || *n > 31)) {
      r_.error(at.mark(), at.path,
               std::to_string(*n) +
                   " is not a day of the month: 1 to 31, or -1 (the last day) "
                   "to -31");
      return std::nullopt;
    }
    return n;
  }

  // `x` or `x:y`, inclusive (Alertmanager's stringableRangeFromString and its checks).
  std::optional<inclusive_range> load_range(const entry& at, field kind) {
    auto text = r_.text(at);
    if (!text) return std::nullopt;
    const std::string value = lower(*text);
    const auto colon = value.find(':');
    if (colon != std::string::npos && value.find(':', colon + 1) != std::string::npos) {
      r_.error(at.mark(), at.path, "expected a value or a range like a:b, got " + quote(*text));
      return std::nullopt;
    }
    auto begin = member(std::string_view(value).substr(0, colon), kind, at);
    if (!begin) return std::nullopt;
    auto end = colon == std::string::npos
                   ? begin
                   : member(std::string_view(value).substr(colon + 1), kind, at);
    if (!end) return std::nullopt;
    const inclusive_range range{*begin, *end};
    switch (kind) {
      case field::weekdays:
        if (range.begin > range.end) {
          r_.error(at.mark(), at.path,
                   "weekday range " + quote(*text) +
                       " ends before it starts: a range cannot wrap around the week (sunday is "
                       "its first day); write it as two items");
          return std::nullopt;
        }
        break;
      case field::days_of_month: {
        if (range.begin < 0 && range.end > 0) {
          r_.error(at.mark(), at.path,
                   "day range " + quote(*text) +
                       ": the end day must be negative if the start "
                       "day is");
          return std::nullopt;
        }
        // Always empty, whatever the month's length (28 days at least).
        const int b = range.begin < 0 ? 28 + range.begin : range.begin;
        const int e = range.end < 0 ? 28 + range.end : range.end;
        if (b > e) {
          r_.error(at.mark(), at.path,
                   "day range " + quote(*text) + ": end day " + std::to_string(range.end) +
                       " is always before start day " + std::to_string(range.begin));
          return std::nullopt;
        }
        break;
      }
      case field::months:
      case field::years:
        if (range.begin > range.end) {
          r_.error(at.mark(), at.path,
                   std::string(kind == field::months ? "month" : "year") + " range " +
                       quote(*text) + " ends before it starts");
          return std::nullopt;
        }
        break;
    }
    return range;
  }

  yaml_reader& r_;
  std::vector<time_interval_config>& out_;
};

}  // namespace

void load_time_intervals(yaml_reader& reader, const yaml_entry& at,
                         std::vector<time_interval_config>& out) {
  interval_loader(reader, out).load(at);
}

}  // namespace tocsin::config
