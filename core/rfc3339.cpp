#include "core/rfc3339.hpp"

#include <ctime>

namespace tocsin {

namespace {

void append_digits(std::string& out, long value, int width) {
  char buf[8];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buf, static_cast<std::size_t>(width));
}

}  // namespace

void append_rfc3339_utc(std::chrono::system_clock::time_point tp, std::string& out,
                        int fraction_digits) {
  using namespace std::chrono;
  // floor, not truncation toward zero, so times before 1970 format correctly too.
  const auto micros = floor<microseconds>(tp.time_since_epoch()).count();
  const auto secs = static_cast<std::time_t>(floor<seconds>(microseconds(micros)).count());
  const long frac = static_cast<long>(micros - static_cast<long long>(secs) * 1'000'000);
  // Every archived event carries its receive time: most share their second with the one before,
  // so the "YYYY-MM-DDTHH:MM:SS." part is kept per thread and only the fraction is formatted.
  thread_local std::time_t cached_secs = 0;
  thread_local std::string cached_prefix;
  if (cached_prefix.empty() || secs != cached_secs) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    cached_prefix.clear();
    append_digits(cached_prefix, tm.tm_year + 1900, 4);  // system_clock spans 1677–2262
    cached_prefix += '-';
    append_digits(cached_prefix, tm.tm_mon + 1, 2);
    cached_prefix += '-';
    append_digits(cached_prefix, tm.tm_mday, 2);
    cached_prefix += 'T';
    append_digits(cached_prefix, tm.tm_hour, 2);
    cached_prefix += ':';
    append_digits(cached_prefix, tm.tm_min, 2);
    cached_prefix += ':';
    append_digits(cached_prefix, tm.tm_sec, 2);
    cached_prefix += '.';
    cached_secs = secs;
  }
  out += cached_prefix;
  if (fraction_digits == 3) {
    append_digits(out, frac / 1000, 3);
  } else {
    append_digits(out, frac, 6);
  }
  out += 'Z';
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
