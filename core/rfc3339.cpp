#include "core/rfc3339.hpp"

#include <cstdio>
#include <ctime>

namespace tocsin {

void append_rfc3339_utc(std::chrono::system_clock::time_point tp, std::string& out,
                        int fraction_digits) {
  using namespace std::chrono;
  // floor, not truncation toward zero, so times before 1970 format correctly too.
  const auto micros = floor<microseconds>(tp.time_since_epoch()).count();
  const auto secs = static_cast<std::time_t>(floor<seconds>(microseconds(micros)).count());
  long frac = static_cast<long>(micros - static_cast<long long>(secs) * 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  const bool millis = fraction_digits == 3;
  if (millis) frac /= 1000;
  char buf[48];
  const int n = std::snprintf(
      buf, sizeof buf,
      millis ? "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ" : "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  if (n > 0) out.append(buf, static_cast<std::size_t>(n));
}

std::string format_rfc3339_millis(std::chrono::system_clock::time_point tp) {
  std::string out;
  append_rfc3339_utc(tp, out, 3);
  return out;
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view t) {
  using namespace std::chrono;
  // Digits at [pos, pos+n) as a number, or -1.
  const auto num = [&](std::size_t pos, std::size_t n) {
    if (pos + n > t.size()) return -1;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return -1;
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't') ||
      t[13] != ':' || t[16] != ':') {
    return std::nullopt;
  }
  const int y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2),
            s = num(17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) return std::nullopt;
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)},
                            day{static_cast<unsigned>(d)}};
  if (!date.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::size_t pos = 19;
  microseconds fraction{0};
  if (pos < t.size() && t[pos] == '.') {
    long long scale = 100000;
    ++pos;
    const std::size_t start = pos;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      fraction += microseconds((t[pos] - '0') * scale);
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  seconds offset{0};
  if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
    ++pos;
  } else if (pos + 6 == t.size() && (t[pos] == '+' || t[pos] == '-') && t[pos + 3] == ':') {
    const int oh = num(pos + 1, 2), om = num(pos + 4, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return std::nullopt;
    offset = hours(oh) + minutes(om);
    if (t[pos] == '-') offset = -offset;
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != t.size()) return std::nullopt;
  const auto utc = sys_days(date) + hours(h) + minutes(mi) + seconds(s) + fraction - offset;
  // system_clock counts nanoseconds: it holds 1677 to 2262, and a time outside would overflow.
  constexpr auto earliest = time_point_cast<microseconds>(system_clock::time_point::min());
  constexpr auto latest = time_point_cast<microseconds>(system_clock::time_point::max());
  if (utc <= earliest || utc >= latest) return std::nullopt;
  return time_point_cast<system_clock::duration>(utc);
}

}  // namespace tocsin
