#include "oncall/ics_calendar.hpp"

#include <date/tz.h>
#include <libical/ical.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>

#include "oncall/local_time.hpp"

namespace tocsin::oncall {
namespace {

using std::chrono::local_seconds;
using std::chrono::sys_seconds;

// Larger than any real rota, small enough that a hostile file cannot exhaust memory.
constexpr std::uintmax_t max_file_bytes = 16 * 1024 * 1024;

struct calendar_free {
  void operator()(icalcomponent* c) const { icalcomponent_free(c); }
};
struct iterator_free {
  void operator()(icalrecur_iterator* it) const { icalrecur_iterator_free(it); }
};

// How an event's local times become UTC: `Z` times, an IANA zone, or a VTIMEZONE of the file.
struct event_zone {
  bool utc = false;
  const date::time_zone* iana = nullptr;
  icaltimezone* vtimezone = nullptr;
  bool operator==(const event_zone&) const = default;
};

local_seconds local_of(const icaltimetype& t) {
  using namespace std::chrono;
  const local_days day{year_month_day{year{t.year}, month{static_cast<unsigned>(t.month)},
                                      std::chrono::day{static_cast<unsigned>(t.day)}}};
  if (t.is_date) return local_seconds(day);
  return day + hours(t.hour) + minutes(t.minute) + seconds(t.second);
}

icaltimetype ical_of(local_seconds t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  icaltimetype out = icaltime_null_time();
  out.year = static_cast<int>(ymd.year());
  out.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  out.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  out.hour = static_cast<int>(hms.hours().count());
  out.minute = static_cast<int>(hms.minutes().count());
  out.second = static_cast<int>(hms.seconds().count());
  return out;
}

sys_seconds instant(const event_zone& zone, local_seconds t) {
  if (zone.utc) return sys_seconds(t.time_since_epoch());
  if (zone.iana != nullptr) return to_utc(*zone.iana, t);
  return sys_seconds(std::chrono::seconds(icaltime_as_timet_with_zone(ical_of(t), zone.vtimezone)));
}

std::string quote(const std::string& s) { return '"' + s + '"'; }

// One VEVENT, ready to expand.
struct ics_event {
  std::string user;
  icaltimetype dtstart;
  event_zone zone;
  std::chrono::seconds length{0};  // local, wall-clock length
  std::optional<icalrecurrencetype> rule;
  std::vector<sys_seconds> excluded;
};

}  // namespace

struct ics_calendar::parsed {
  std::unique_ptr<icalcomponent, calendar_free> calendar;  // owns the VTIMEZONEs events use
  std::vector<ics_event> events;
};

namespace {

// Reads one VEVENT of `calendar`, adding what is wrong with it to `problems`.
class event_reader {
 public:
  event_reader(icalcomponent* calendar, const date::time_zone& floating_zone,
               const std::vector<config::oncall_user>& users, std::vector<std::string>& problems)
      : calendar_(calendar), floating_zone_(floating_zone), users_(users), problems_(problems) {}

  std::optional<ics_event> read(icalcomponent* vevent) {
    const char* summary = icalcomponent_get_summary(vevent);
    const char* uid = icalcomponent_get_uid(vevent);
    name_ =
        "event " + quote(summary ? summary : "") + (uid ? " (UID " + std::string(uid) + ")" : "");
    ics_event e;
    e.user = summary ? summary : "";
    if (!known_user(e.user)) return fail("its SUMMARY names no user of oncall.users");
    icalproperty* dtstart = icalcomponent_get_first_property(vevent, ICAL_DTSTART_PROPERTY);
    if (dtstart == nullptr) return fail("has no DTSTART");
    e.dtstart = icalproperty_get_dtstart(dtstart);
    if (!icaltime_is_valid_time(e.dtstart)) return fail("DTSTART is not a date or date-time");
    const auto zone = zone_of(dtstart, e.dtstart);
    if (!zone) return std::nullopt;
    e.zone = *zone;
    const auto length = length_of(vevent, e.dtstart, e.zone);
    if (!length) return std::nullopt;
    e.length = *length;
    if (icalproperty* rrule = icalcomponent_get_first_property(vevent, ICAL_RRULE_PROPERTY)) {
      e.rule = icalproperty_get_rrule(rrule);
    }
    if (!read_exdates(vevent, e.excluded)) return std::nullopt;
    return e;
  }

 private:
  bool known_user(const std::string& name) const {
    return std::any_of(users_.begin(), users_.end(),
                       [&](const config::oncall_user& u) { return u.name == name; });
  }

  std::nullopt_t fail(const std::string& problem) {
    problems_.push_back(name_ + ": " + problem);
    return std::nullopt;
  }

  std::optional<event_zone> zone_of(icalproperty* prop, const icaltimetype& value) {
    if (icaltime_is_utc(value)) return event_zone{.utc = true};
    icalparameter* tzid_param = icalproperty_get_first_parameter(prop, ICAL_TZID_PARAMETER);
    if (tzid_param == nullptr) return event_zone{.iana = &floating_zone_};
    const std::string tzid = icalparameter_get_tzid(tzid_param);
    try {
      return event_zone{.iana = date::locate_zone(tzid)};
    } catch (const std::exception&) {
      // Not an IANA name (Outlook's "W. Europe Standard Time"): the file's own definition.
    }
    if (icaltimezone* tz = icalcomponent_get_timezone(calendar_, tzid.c_str())) {
      return event_zone{.vtimezone = tz};
    }
    return fail("TZID " + quote(tzid) + " is neither an IANA zone nor a VTIMEZONE of the file");
  }

  std::optional<std::chrono::seconds> length_of(icalcomponent* vevent, const icaltimetype& start,
                                                const event_zone& start_zone) {
    std::chrono::seconds length{0};
    if (icalproperty* dtend = icalcomponent_get_first_property(vevent, ICAL_DTEND_PROPERTY)) {
      const icaltimetype end = icalproperty_get_dtend(dtend);
      if (!icaltime_is_valid_time(end)) return fail("DTEND is not a date or date-time");
      const auto end_zone = zone_of(dtend, end);
      if (!end_zone) return std::nullopt;
      // In the same zone the wall-clock difference, so each occurrence keeps its clock times.
      length = *end_zone == start_zone
                   ? local_of(end) - local_of(start)
                   : instant(*end_zone, local_of(end)) - instant(start_zone, local_of(start));
    } else if (icalproperty* d = icalcomponent_get_first_property(vevent, ICAL_DURATION_PROPERTY)) {
      length = std::chrono::seconds(icaldurationtype_as_int(icalproperty_get_duration(d)));
    } else if (start.is_date) {
      length = std::chrono::days(1);  // RFC 5545 3.6.1: a date-only event lasts that day
    } else {
      return fail("has neither DTEND nor DURATION");
    }
    if (length <= std::chrono::seconds(0)) return fail("ends before it starts");
    return length;
  }

  bool read_exdates(icalcomponent* vevent, std::vector<sys_seconds>& out) {
    for (icalproperty* p = icalcomponent_get_first_property(vevent, ICAL_EXDATE_PROPERTY);
         p != nullptr; p = icalcomponent_get_next_property(vevent, ICAL_EXDATE_PROPERTY)) {
      const icaltimetype when = icalproperty_get_exdate(p);
      if (!icaltime_is_valid_time(when)) {
        fail("an EXDATE is not a date or date-time");
        return false;
      }
      const auto zone = zone_of(p, when);
      if (!zone) return false;
      out.push_back(instant(*zone, local_of(when)));
    }
    return true;
  }

  icalcomponent* calendar_;
  const date::time_zone& floating_zone_;
  const std::vector<config::oncall_user>& users_;
  std::vector<std::string>& problems_;
  std::string name_;
};

// libical keeps what it could not parse as X-LIC-ERROR properties where it happened.
void collect_parse_errors(icalcomponent* c, std::vector<std::string>& problems) {
  for (icalproperty* p = icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY); p != nullptr;
       p = icalcomponent_get_next_property(c, ICAL_XLICERROR_PROPERTY)) {
    problems.emplace_back(icalproperty_get_xlicerror(p));
  }
  for (icalcomponent* child = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT);
       child != nullptr; child = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT)) {
    collect_parse_errors(child, problems);
  }
}

std::string read_text(const std::filesystem::path& file, std::vector<std::string>& problems) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) {
    problems.push_back("cannot read: " + ec.message());
    return {};
  }
  if (size > max_file_bytes) {
    problems.push_back("larger than " + std::to_string(max_file_bytes) + " bytes");
    return {};
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) problems.emplace_back("cannot read");
  return text.str();
}

// libical's time zones cache their transitions as they convert: one expansion at a time.
std::mutex libical_mutex;

}  // namespace

ics_calendar::ics_calendar(const std::filesystem::path& file, const date::time_zone& floating_zone,
                           const std::vector<config::oncall_user>& users)
    : parsed_(std::make_unique<parsed>()) {
  std::vector<std::string> problems;
  const std::string text = read_text(file, problems);
  if (problems.empty()) {
    const std::lock_guard lock(libical_mutex);
    parsed_->calendar.reset(icalparser_parse_string(text.c_str()));
    icalcomponent* calendar = parsed_->calendar.get();
    if (calendar == nullptr || icalcomponent_isa(calendar) != ICAL_VCALENDAR_COMPONENT) {
      problems.emplace_back("not an iCalendar file (no VCALENDAR)");
    } else {
      collect_parse_errors(calendar, problems);
      event_reader reader(calendar, floating_zone, users, problems);
      for (icalcomponent* c = icalcomponent_get_first_component(calendar, ICAL_VEVENT_COMPONENT);
           c != nullptr; c = icalcomponent_get_next_component(calendar, ICAL_VEVENT_COMPONENT)) {
        if (auto e = reader.read(c)) parsed_->events.push_back(std::move(*e));
      }
    }
  }
  if (problems.empty()) return;
  for (auto& p : problems) p = file.string() + ": " + p;
  throw config::config_error(std::move(problems));
}

ics_calendar::~ics_calendar() = default;

namespace {

void add_if_overlapping(const ics_event& e, local_seconds start, sys_seconds from, sys_seconds to,
                        std::vector<calendar_entry>& out) {
  const sys_seconds begin = instant(e.zone, start);
  const sys_seconds end = instant(e.zone, start + e.length);
  if (begin >= to || end <= from) return;
  if (std::find(e.excluded.begin(), e.excluded.end(), begin) != e.excluded.end()) return;
  out.push_back({e.user, begin, end});
}

// Starts the iterator near `from` instead of at DTSTART; libical allows it only without COUNT.
void skip_ahead(icalrecur_iterator* it, const ics_event& e, sys_seconds from) {
  // Two days before, read as local time: earlier than `from` in any zone.
  const local_seconds near((from - e.length - std::chrono::days(2)).time_since_epoch());
  if (e.rule->count == 0 && near > local_of(e.dtstart)) {
    icalrecur_iterator_set_start(it, ical_of(near));
  }
}

void expand(const ics_event& e, sys_seconds from, sys_seconds to,
            std::vector<calendar_entry>& out) {
  if (!e.rule) return add_if_overlapping(e, local_of(e.dtstart), from, to, out);
  const std::unique_ptr<icalrecur_iterator, iterator_free> it(
      icalrecur_iterator_new(*e.rule, e.dtstart));
  if (!it) return;
  skip_ahead(it.get(), e, from);
  for (int n = 0; n < ics_calendar::max_occurrences_examined; ++n) {
    const icaltimetype next = icalrecur_iterator_next(it.get());
    if (icaltime_is_null_time(next)) return;
    const local_seconds start = local_of(next);
    if (instant(e.zone, start) >= to) return;
    add_if_overlapping(e, start, from, to, out);
  }
}

}  // namespace

std::vector<calendar_entry> ics_calendar::entries(sys_seconds from, sys_seconds to) const {
  std::vector<calendar_entry> out;
  const std::lock_guard lock(libical_mutex);
  for (const ics_event& e : parsed_->events) expand(e, from, to, out);
  return out;
}

}  // namespace tocsin::oncall
