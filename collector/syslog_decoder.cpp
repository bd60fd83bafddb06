#include "collector/syslog_decoder.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/timezone.hpp"

namespace tocsin::collector {
namespace {

using std::string_view;

// ---------------------------------------------------------------------------------------------
// Character classes and small helpers. Everything works on [p, end) with explicit bounds.

inline bool is_digit(char c) {
  return static_cast<unsigned>(static_cast<unsigned char>(c)) - 48u < 10u;
}
inline bool is_alpha(char c) {
  return static_cast<unsigned>(static_cast<unsigned char>(c) | 0x20u) - 97u < 26u;
}
inline bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }
inline bool is_print_usascii(char c) {
  return static_cast<unsigned>(static_cast<unsigned char>(c)) - 33u <= 93u;  // 33..126
}
inline int digit(char c) { return c - '0'; }
inline int two_digits(const char* s) { return digit(s[0]) * 10 + digit(s[1]); }

// The byte at p[i], or NUL past the end: NUL never matches what the parsers look for, so
// look-ahead needs no separate length checks.
inline char at(const char* p, const char* end, std::ptrdiff_t i) {
  return i < end - p ? p[i] : '\0';
}
inline bool digits_at(const char* p, const char* end, std::ptrdiff_t i, int n) {
  for (int k = 0; k < n; ++k) {
    if (!is_digit(at(p, end, i + k))) return false;
  }
  return true;
}

// Frames may still carry the line end (LF, CRLF) or a NUL terminator of their transport.
string_view strip_trailing(string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == '\0')) {
    s.remove_suffix(1);
  }
  return s;
}

const char* word_end(const char* p, const char* end) {
  const void* sp = std::memchr(p, ' ', static_cast<std::size_t>(end - p));
  return sp != nullptr ? static_cast<const char*>(sp) : end;
}

// Word-at-a-time scanning (SWAR), eight bytes per step, so long fields cost no branch per
// byte. A mask has the high bit set in each matching byte; a borrow or carry can also flag
// bytes above a true match, never below one, so the lowest flagged byte is always exact —
// and that is the only one the scanners use.
constexpr std::uint64_t ones = 0x0101010101010101ULL;
constexpr std::uint64_t highs = 0x8080808080808080ULL;

inline std::uint64_t load8(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;  // the first byte in memory is the least significant
}
inline std::uint64_t zero_bytes(std::uint64_t x) { return (x - ones) & ~x & highs; }
inline std::uint64_t bytes_equal(std::uint64_t x, unsigned char c) {
  return zero_bytes(x ^ (ones * c));
}
// Bytes below 33 or above 126: not PRINTUSASCII.
inline std::uint64_t non_print_bytes(std::uint64_t x) {
  return ((x - ones * 0x21) & ~x & highs) | (((x + ones) | x) & highs);
}
inline std::ptrdiff_t first_flagged(std::uint64_t mask) { return std::countr_zero(mask) / 8; }

// The first byte in [p, end) that is not PRINTUSASCII, or end.
inline const char* find_non_print(const char* p, const char* end) {
  for (; end - p >= 8; p += 8) {
    if (const std::uint64_t m = non_print_bytes(load8(p))) return p + first_flagged(m);
  }
  while (p < end && is_print_usascii(*p)) ++p;
  return p;
}

// The first '"' or '\\' in [p, end), or end.
inline const char* find_quote_or_backslash(const char* p, const char* end) {
  for (; end - p >= 8; p += 8) {
    const std::uint64_t x = load8(p);
    if (const std::uint64_t m = bytes_equal(x, '"') | bytes_equal(x, '\\')) {
      return p + first_flagged(m);
    }
  }
  while (p < end && *p != '"' && *p != '\\') ++p;
  return p;
}

constexpr bool is_leap(int y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }
constexpr int days_in_month(int y, int m) {
  constexpr std::array<int, 12> days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[static_cast<std::size_t>(m - 1)];
}

// ---------------------------------------------------------------------------------------------
// RFC 5424

// "<PRI>" with PRIVAL 0-191 and no leading zero. Returns the position after '>' or nullptr.
inline const char* scan_pri_strict(const char* p, const char* end, int& pri) {
  if (p == end || *p != '<') return nullptr;
  ++p;
  const char* digits = p;
  int v = 0;
  while (p < end && is_digit(*p) && p - digits < 3) v = v * 10 + digit(*p++);
  const auto n = p - digits;
  if (n == 0 || p == end || *p != '>' || v > 191 || (n > 1 && *digits == '0')) return nullptr;
  pri = v;
  return p + 1;
}

// FULL-DATE "T" FULL-TIME of RFC 5424 §6.2.3 (RFC 3339 with upper-case T/Z, at most six
// fraction digits, no leap second). Returns the end of the timestamp or nullptr.
const char* scan_rfc5424_timestamp(const char* p, const char* end) {
  if (end - p < 20) return nullptr;  // "YYYY-MM-DDThh:mm:ssZ" is the shortest
  if (!digits_at(p, end, 0, 4) || p[4] != '-' || !digits_at(p, end, 5, 2) || p[7] != '-' ||
      !digits_at(p, end, 8, 2) || p[10] != 'T' || !digits_at(p, end, 11, 2) || p[13] != ':' ||
      !digits_at(p, end, 14, 2) || p[16] != ':' || !digits_at(p, end, 17, 2)) {
    return nullptr;
  }
  const int year = digit(p[0]) * 1000 + digit(p[1]) * 100 + two_digits(p + 2);
  const int month = two_digits(p + 5), mday = two_digits(p + 8);
  if (month < 1 || month > 12 || mday < 1 || mday > days_in_month(year, month) ||
      two_digits(p + 11) > 23 || two_digits(p + 14) > 59 || two_digits(p + 17) > 59) {
    return nullptr;
  }
  const char* q = p + 19;
  if (q < end && *q == '.') {
    const char* f = ++q;
    while (q < end && is_digit(*q)) ++q;
    if (q == f || q - f > 6) return nullptr;
  }
  if (q == end) return nullptr;
  if (*q == 'Z') return q + 1;
  if ((*q != '+' && *q != '-') || !digits_at(q, end, 1, 2) || at(q, end, 3) != ':' ||
      !digits_at(q, end, 4, 2) || two_digits(q + 1) > 23 || two_digits(q + 4) > 59) {
    return nullptr;
  }
  return q + 6;
}

enum class field_result { ok, empty, bad_char, too_long, truncated };

// One space-terminated header field of 1..max PRINTUSASCII bytes; "-" (NILVALUE) gives an
// empty view. On success p points past the terminating space.
inline field_result scan_header_field(const char*& p, const char* end, std::size_t max,
                                      string_view& value) {
  const char* start = p;
  p = find_non_print(p, end);  // normally the terminating SP
  const auto len = static_cast<std::size_t>(p - start);
  if (len > max) return field_result::too_long;
  if (p == end) return field_result::truncated;
  if (*p != ' ') return field_result::bad_char;
  if (len == 0) return field_result::empty;
  value = (len == 1 && *start == '-') ? string_view{} : string_view(start, len);
  ++p;
  return field_result::ok;
}

struct field_errors {
  const char* code;
  const char* what_bad;
  const char* what_too_long;
};

constexpr field_errors hostname_errors{
    "bad_hostname", "rfc5424: HOSTNAME must be 1-255 printable US-ASCII characters",
    "rfc5424: HOSTNAME longer than 255 characters"};
constexpr field_errors app_name_errors{
    "bad_app_name", "rfc5424: APP-NAME must be 1-48 printable US-ASCII characters",
    "rfc5424: APP-NAME longer than 48 characters"};
constexpr field_errors procid_errors{"bad_procid",
                                     "rfc5424: PROCID must be 1-128 printable US-ASCII characters",
                                     "rfc5424: PROCID longer than 128 characters"};
constexpr field_errors msgid_errors{"bad_msgid",
                                    "rfc5424: MSGID must be 1-32 printable US-ASCII characters",
                                    "rfc5424: MSGID longer than 32 characters"};

constexpr decode_status truncated_header =
    decode_status::fail("truncated", "rfc5424: message ends inside the header");

inline decode_status field_status(field_result r, const field_errors& e) {
  switch (r) {
    case field_result::ok:
      return decode_status::ok();
    case field_result::too_long:
      return decode_status::fail("field_too_long", e.what_too_long);
    case field_result::truncated:
      return truncated_header;
    case field_result::empty:
    case field_result::bad_char:
      break;
  }
  return decode_status::fail(e.code, e.what_bad);
}

// SD-NAME: 1-32 PRINTUSASCII except '=', SP, ']' and '"'. Returns the end or nullptr.
inline const char* scan_sd_name(const char* p, const char* end) {
  const char* start = p;
  const char* limit = end - p > 32 ? p + 32 : end;
  while (p < limit) {
    const char c = *p;
    if (!is_print_usascii(c) || c == '=' || c == ']' || c == '"') break;
    ++p;
  }
  if (p == start) return nullptr;
  // A 33rd name character means the name is too long rather than ended.
  if (p == limit && p < end) {
    const char c = *p;
    if (is_print_usascii(c) && c != '=' && c != ']' && c != '"') return nullptr;
  }
  return p;
}

constexpr decode_status bad_sd(const char* what) {
  return decode_status::fail("bad_structured_data", what);
}

constexpr decode_status duplicate_sd_id =
    decode_status::fail("duplicate_sd_id", "rfc5424: an SD-ID appears twice in one message");

// Elements whose SD-IDs are checked for duplicates on the stack, as they are parsed.
constexpr std::size_t inline_sd_ids = 16;

// Checks the SD-IDs of all elements for duplicates when there were too many for the inline
// check: sorts a scratch vector (allocates, but only for such unusual messages).
bool has_duplicate_sd_id(const std::vector<sd_param>& sd) {
  thread_local std::vector<string_view> ids;
  ids.clear();
  const char* last = nullptr;
  for (const auto& p : sd) {
    if (p.id.data() != last) {  // the params of one element share its id view
      ids.push_back(p.id);
      last = p.id.data();
    }
  }
  std::sort(ids.begin(), ids.end());
  return std::adjacent_find(ids.begin(), ids.end()) != ids.end();
}

// STRUCTURED-DATA = NILVALUE / 1*SD-ELEMENT, starting at p. On success p points past it.
decode_status scan_structured_data(const char*& p, const char* end, std::vector<sd_param>& sd) {
  if (p == end) return bad_sd("rfc5424: STRUCTURED-DATA missing");
  if (*p == '-') {
    ++p;
    return decode_status::ok();
  }
  if (*p != '[') return bad_sd("rfc5424: STRUCTURED-DATA must be '-' or start with '['");

  std::array<string_view, inline_sd_ids> ids;
  std::size_t element_count = 0;
  while (p < end && *p == '[') {
    ++p;
    const char* id_end = scan_sd_name(p, end);
    if (id_end == nullptr) {
      return bad_sd("rfc5424: SD-ID must be 1-32 printable characters except = ] \" and space");
    }
    const string_view id(p, static_cast<std::size_t>(id_end - p));
    p = id_end;
    if (element_count < inline_sd_ids) {
      for (std::size_t i = 0; i < element_count; ++i) {
        if (ids[i] == id) return duplicate_sd_id;
      }
      ids[element_count] = id;
    }
    ++element_count;

    bool has_params = false;
    while (true) {
      if (p == end) return bad_sd("rfc5424: SD-ELEMENT not closed with ']'");
      if (*p == ']') {
        ++p;
        break;
      }
      if (*p != ' ') return bad_sd("rfc5424: expected ' ' or ']' in SD-ELEMENT");
      ++p;
      const char* name_end = scan_sd_name(p, end);
      if (name_end == nullptr) {
        return bad_sd(
            "rfc5424: PARAM-NAME must be 1-32 printable characters except = ] \" and space");
      }
      const string_view name(p, static_cast<std::size_t>(name_end - p));
      p = name_end;
      if (end - p < 2 || p[0] != '=' || p[1] != '"') {
        return bad_sd("rfc5424: expected =\" after PARAM-NAME");
      }
      p += 2;
      // PARAM-VALUE runs to the first unescaped '"'. A backslash always swallows the next
      // byte here: for \" \\ \] that is the escape; any other pair is kept literally anyway.
      const char* value = p;
      while (true) {
        p = find_quote_or_backslash(p, end);
        if (p == end) return bad_sd("rfc5424: PARAM-VALUE not closed with '\"'");
        if (*p == '"') break;
        p += end - p > 1 ? 2 : 1;
      }
      sd.push_back({id, name, string_view(value, static_cast<std::size_t>(p - value))});
      has_params = true;
      ++p;
    }
    if (!has_params) sd.push_back({id, {}, {}});
  }
  if (element_count > inline_sd_ids && has_duplicate_sd_id(sd)) return duplicate_sd_id;
  return decode_status::ok();
}

// ---------------------------------------------------------------------------------------------
// RFC 3164 timestamps

enum class zone_kind { none, utc, numeric };

struct civil_timestamp {
  int year = -1;  // -1: not given (BSD format without year)
  int month = 0, day = 0, hour = 0, minute = 0, second = 0;
  string_view fraction;  // digits only
  zone_kind zone = zone_kind::none;
  char offset_sign = '+';
  int offset_hours = 0, offset_minutes = 0;
};

constexpr std::array<const char*, 12> month_names = {"jan", "feb", "mar", "apr", "may", "jun",
                                                     "jul", "aug", "sep", "oct", "nov", "dec"};

int month_from_name(const char* p, const char* end) {
  if (end - p < 3) return 0;
  const char a = static_cast<char>(p[0] | 0x20), b = static_cast<char>(p[1] | 0x20),
             c = static_cast<char>(p[2] | 0x20);
  for (std::size_t i = 0; i < month_names.size(); ++i) {
    if (month_names[i][0] == a && month_names[i][1] == b && month_names[i][2] == c) {
      return static_cast<int>(i) + 1;
    }
  }
  return 0;
}

// Optional ".123" (or ",123", which some devices send); at most 9 digits. Returns false on a
// separator without digits or too many digits.
bool scan_fraction(const char*& p, const char* end, civil_timestamp& t) {
  if (p < end && (*p == '.' || *p == ',') && is_digit(at(p, end, 1))) {
    const char* f = ++p;
    while (p < end && is_digit(*p)) ++p;
    if (p - f > 9) return false;
    t.fraction = string_view(f, static_cast<std::size_t>(p - f));
    return true;
  }
  return !(p < end && (*p == '.' || *p == ','));
}

bool time_fields_in_range(const civil_timestamp& t) {
  return t.month >= 1 && t.month <= 12 && t.day >= 1 && t.day <= 31 && t.hour <= 23 &&
         t.minute <= 59 && t.second <= 59;
}

// "hh:mm:ss" at p.
bool scan_clock(const char*& p, const char* end, civil_timestamp& t) {
  if (!digits_at(p, end, 0, 2) || at(p, end, 2) != ':' || !digits_at(p, end, 3, 2) ||
      at(p, end, 5) != ':' || !digits_at(p, end, 6, 2)) {
    return false;
  }
  t.hour = two_digits(p);
  t.minute = two_digits(p + 3);
  t.second = two_digits(p + 6);
  p += 8;
  return true;
}

// RFC 3339 as rsyslog and others forward it inside RFC 3164, leniently: 'T', 't' or ' '
// between date and time, 1-9 fraction digits, offset Z, z, ±hh:mm, ±hhmm or none.
bool scan_iso_timestamp(const char*& p, const char* end, civil_timestamp& t) {
  const char* q = p;
  if (!digits_at(q, end, 0, 4) || at(q, end, 4) != '-' || !digits_at(q, end, 5, 2) ||
      at(q, end, 7) != '-' || !digits_at(q, end, 8, 2)) {
    return false;
  }
  const char sep = at(q, end, 10);
  if (sep != 'T' && sep != 't' && sep != ' ') return false;
  t.year = digit(q[0]) * 1000 + digit(q[1]) * 100 + two_digits(q + 2);
  t.month = two_digits(q + 5);
  t.day = two_digits(q + 8);
  q += 11;
  if (!scan_clock(q, end, t) || !scan_fraction(q, end, t)) return false;
  const char z = at(q, end, 0);
  if (z == 'Z' || z == 'z') {
    t.zone = zone_kind::utc;
    ++q;
  } else if (z == '+' || z == '-') {
    if (!digits_at(q, end, 1, 2)) return false;
    int skip = 0;
    if (at(q, end, 3) == ':' && digits_at(q, end, 4, 2)) {
      t.offset_minutes = two_digits(q + 4);
      skip = 6;
    } else if (digits_at(q, end, 3, 2)) {
      t.offset_minutes = two_digits(q + 3);
      skip = 5;
    } else {
      return false;
    }
    t.offset_hours = two_digits(q + 1);
    t.offset_sign = z;
    t.zone = zone_kind::numeric;
    if (t.offset_hours > 23 || t.offset_minutes > 59) return false;
    q += skip;
  }
  if (!time_fields_in_range(t)) return false;
  p = q;
  return true;
}

// "Mmm dd hh:mm:ss" (day space- or zero-padded, or a single digit), optional year before the
// time, optional fraction, optional Cisco zone abbreviation and trailing ':'.
bool scan_bsd_timestamp(const char*& p, const char* end, civil_timestamp& t) {
  t.month = month_from_name(p, end);
  if (t.month == 0 || at(p, end, 3) != ' ') return false;
  const char* q = p + 4;
  if (at(q, end, 0) == ' ' && is_digit(at(q, end, 1))) {
    t.day = digit(q[1]);
    q += 2;
  } else if (digits_at(q, end, 0, 2)) {
    t.day = two_digits(q);
    q += 2;
  } else if (is_digit(at(q, end, 0))) {
    t.day = digit(q[0]);
    q += 1;
  } else {
    return false;
  }
  if (at(q, end, 0) != ' ') return false;
  ++q;
  if (digits_at(q, end, 0, 4) && at(q, end, 4) == ' ') {  // "Mmm dd yyyy hh:mm:ss"
    t.year = digit(q[0]) * 1000 + digit(q[1]) * 100 + two_digits(q + 2);
    q += 5;
  }
  if (!scan_clock(q, end, t) || !scan_fraction(q, end, t) || !time_fields_in_range(t)) {
    return false;
  }
  // Cisco "service timestamps ... show-timezone": "18:46:11.123 UTC: %SYS-...". Only UTC/GMT
  // name an offset we can trust; other abbreviations are ambiguous (CST) and are skipped.
  if (at(q, end, 0) == ' ') {
    int n = 0;
    while (n < 5 && at(q, end, 1 + n) >= 'A' && at(q, end, 1 + n) <= 'Z') ++n;
    if (n >= 3 && at(q, end, 1 + n) == ':') {
      const string_view abbr(q + 1, static_cast<std::size_t>(n));
      if (abbr == "UTC" || abbr == "GMT") t.zone = zone_kind::utc;
      q += 1 + n;
    }
  }
  if (at(q, end, 0) == ':') ++q;  // Cisco and ASA end the timestamp with ':'
  p = q;
  return true;
}

// A timestamp at p in any accepted form, followed by a space or the end. On success p points
// past it (not past the space).
bool scan_3164_timestamp(const char*& p, const char* end, civil_timestamp& t) {
  const char* q = p;
  if (q < end && (*q == '*' || *q == '.')) ++q;  // Cisco: clock not set / not in sync
  t = civil_timestamp{};
  const bool found =
      is_digit(at(q, end, 0)) ? scan_iso_timestamp(q, end, t) : scan_bsd_timestamp(q, end, t);
  if (!found || (q < end && *q != ' ')) return false;
  p = q;
  return true;
}

// The year for a timestamp that has none: the one placing it from 11 months before to one
// month after the receive time, both read as civil time in the input's zone. syslog senders
// only omit the year on live traffic, so this resolves the New Year boundary both ways
// (a late "Dec 31" received in January, a fast clock's "Jan 1" received on Dec 31) and
// still dates a message delayed by weeks correctly.
int infer_year(const civil_timestamp& t, const syslog_decode_context& ctx) {
  using namespace std::chrono;
  const auto received = floor<seconds>(ctx.received_at);
  const seconds offset = ctx.timezone != nullptr ? ctx.timezone->offset_at(received) : seconds{0};
  const seconds received_local = received.time_since_epoch() + offset;
  const year_month_day received_date{floor<days>(sys_seconds{received_local})};
  int y = static_cast<int>(received_date.year());
  const auto local_at = [&](int candidate) {
    // An impossible date (Feb 29 of a common year) rolls over here; it is rejected later.
    const sys_days date{year{candidate} / month{static_cast<unsigned>(t.month)} /
                        day{static_cast<unsigned>(t.day)}};
    return date.time_since_epoch() + hours{t.hour} + minutes{t.minute} + seconds{t.second};
  };
  const auto delta = local_at(y) - received_local;
  if (delta > days{31}) {
    --y;
  } else if (delta <= -days{334}) {
    ++y;
  }
  return y;
}

inline char* put2(char* w, int v) {
  w[0] = static_cast<char>('0' + v / 10);
  w[1] = static_cast<char>('0' + v % 10);
  return w + 2;
}

// Writes t as RFC 3339, the zone either as sent or as `offset` (when t has none).
void write_rfc3339(const civil_timestamp& t, std::chrono::seconds offset, std::string& out) {
  char buf[48];
  char* w = buf;
  w = put2(w, t.year / 100);
  w = put2(w, t.year % 100);
  *w++ = '-';
  w = put2(w, t.month);
  *w++ = '-';
  w = put2(w, t.day);
  *w++ = 'T';
  w = put2(w, t.hour);
  *w++ = ':';
  w = put2(w, t.minute);
  *w++ = ':';
  w = put2(w, t.second);
  if (!t.fraction.empty()) {
    *w++ = '.';
    std::memcpy(w, t.fraction.data(), t.fraction.size());  // at most 9 digits
    w += t.fraction.size();
  }
  if (t.zone == zone_kind::numeric) {
    *w++ = t.offset_sign;
    w = put2(w, t.offset_hours);
    *w++ = ':';
    w = put2(w, t.offset_minutes);
  } else {
    long long off = t.zone == zone_kind::utc ? 0 : offset.count();
    if (off == 0) {
      *w++ = 'Z';
    } else {
      *w++ = off < 0 ? '-' : '+';
      if (off < 0) off = -off;
      off /= 60;  // zones with second offsets (historic LMT) lose the seconds
      w = put2(w, static_cast<int>(off / 60 % 100));
      *w++ = ':';
      w = put2(w, static_cast<int>(off % 60));
    }
  }
  out.assign(buf, static_cast<std::size_t>(w - buf));
}

// Completes t (year, zone) and writes it to out.timestamp; leaves it empty when t names no
// real date.
void set_3164_timestamp(civil_timestamp t, const syslog_decode_context& ctx, event& out) {
  using namespace std::chrono;
  if (t.year < 0) t.year = infer_year(t, ctx);
  if (t.year < 0 || t.year > 9999 || t.day > days_in_month(t.year, t.month)) return;
  seconds offset{0};
  if (t.zone == zone_kind::none && ctx.timezone != nullptr) {
    const sys_days date{year{t.year} / month{static_cast<unsigned>(t.month)} /
                        day{static_cast<unsigned>(t.day)}};
    const local_seconds local{date.time_since_epoch() + hours{t.hour} + minutes{t.minute} +
                              seconds{t.second}};
    offset = ctx.timezone->offset_for_local(local);
  }
  write_rfc3339(t, offset, out.timestamp);
}

// ---------------------------------------------------------------------------------------------
// RFC 3164 HOSTNAME and TAG heuristics

inline bool is_host_char(char c) {
  return is_alnum(c) || c == '.' || c == '-' || c == '_' || c == ':';
}
inline bool is_bare_tag_char(char c) {
  return is_alnum(c) || c == '-' || c == '_' || c == '.' || c == '/';
}

bool is_ipv6_char(char c) {
  return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') || c == ':' || c == '.';
}

// A name, an IPv4 address, or an IPv6 address ("2001:db8::1", "::ffff:10.0.0.1"); a word with a
// ':' that is no IPv6 address is a TAG ("app:msg"), not a host.
bool looks_like_host(string_view w) {
  if (w.empty() || w.size() > 255 || w.back() == ':') return false;
  if (!std::all_of(w.begin(), w.end(), is_host_char)) return false;
  if (w.find(':') == string_view::npos) return true;
  return std::count(w.begin(), w.end(), ':') >= 2 && std::all_of(w.begin(), w.end(), is_ipv6_char);
}

// A Cisco mnemonic "%FACILITY-SEVERITY-MNEMONIC:" ("%ASA-4-106023:", "%SYS-5-CONFIG_I:"),
// which rsyslog and syslog-ng take as the TAG. Returns its length without the ':' or 0.
std::size_t cisco_mnemonic_length(string_view word) {
  if (word.size() < 7 || word.front() != '%' || word.back() != ':') return 0;
  const string_view core = word.substr(1, word.size() - 2);
  const auto first = core.find('-');
  const auto second = first == string_view::npos ? first : core.find('-', first + 1);
  if (first == 0 || second == string_view::npos || second == first + 1 ||
      second + 1 == core.size()) {
    return 0;
  }
  const auto is_name = [](char c) { return is_alnum(c) || c == '_' || c == '-'; };
  if (!std::all_of(core.begin(), core.end(), is_name)) return 0;
  for (std::size_t i = first + 1; i < second; ++i) {
    if (!is_digit(core[i])) return 0;
  }
  return word.size() - 1;
}

// A TAG at p: "app[pid]:", "app:", and when `bare_allowed`, "app[pid]" or a plausible bare
// "app" followed by more text. Returns the position after the TAG and one space, or nullptr.
const char* scan_tag(const char* p, const char* end, bool bare_allowed, string_view& app,
                     string_view& procid) {
  const char* we = word_end(p, end);
  string_view word(p, static_cast<std::size_t>(we - p));
  if (word.empty()) return nullptr;
  if (word.front() == '%') {
    const std::size_t n = cisco_mnemonic_length(word);
    if (n == 0) return nullptr;
    app = word.substr(0, n);
    procid = {};
    return we < end ? we + 1 : we;
  }
  // "app:msg" / "app[pid]:msg": a TAG whose ':' has no space after it.
  if (const auto colon_at = word.find(':');
      colon_at != string_view::npos && colon_at + 1 < word.size() && colon_at > 0) {
    const string_view rest = word.substr(colon_at + 1);
    // Not "a::b", not a URL, not a time: the program name starts with a letter.
    if (rest.front() != ':' && rest.front() != '/' && is_alpha(word.front())) {
      we = p + colon_at + 1;
      word = word.substr(0, colon_at + 1);
      if (scan_tag(p, we, false, app, procid) != nullptr) return we;
      return nullptr;
    }
  }
  const bool colon = word.back() == ':';
  if (!colon && !bare_allowed) return nullptr;
  const string_view core = colon ? word.substr(0, word.size() - 1) : word;
  string_view a, pid;
  const auto bracket = core.find('[');
  if (bracket != string_view::npos) {
    // "app[pid]": a non-empty pid, nothing after the ']'.
    if (bracket == 0 || core.back() != ']' || core.size() - bracket < 3) return nullptr;
    a = core.substr(0, bracket);
    pid = core.substr(bracket + 1, core.size() - bracket - 2);
    if (pid.size() > 128 || pid.find_first_of("[]") != string_view::npos) return nullptr;
  } else {
    a = core;
    if (!colon) {
      // rsyslog's legacy forward format may send a TAG without ':'; take a word as one only
      // when it looks like a program name and the message goes on after it.
      if (a.size() > 32 || we == end || we + 1 == end ||
          !std::all_of(a.begin(), a.end(), is_bare_tag_char)) {
        return nullptr;
      }
    }
  }
  if (a.empty() || a.size() > 48) return nullptr;
  for (const char c : a) {
    if (!is_print_usascii(c) || c == ':' || c == ']') return nullptr;
  }
  // A number is no program name: "1987" after "CST" in RFC 3164's example 3, or a Cisco
  // sequence number "82:" behind a relay's header.
  if (std::none_of(a.begin(), a.end(), is_alpha)) return nullptr;
  app = a;
  procid = pid;
  return we < end ? we + 1 : we;
}

// Cisco sequence number "123: " (zero-padded or not) at p; returns the position after it.
const char* skip_sequence_number(const char* p, const char* end) {
  const char* q = p;
  while (q < end && is_digit(*q) && q - p < 10) ++q;
  if (q == p || at(q, end, 0) != ':' || at(q, end, 1) != ' ') return p;
  return q + 2;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

decode_status decode_rfc5424(std::string_view msg, event& out) {
  out.clear_decoded();
  msg = strip_trailing(msg);
  if (msg.empty()) return decode_status::fail("empty", "rfc5424: empty message");
  const char* p = msg.data();
  const char* const end = p + msg.size();

  int pri = 0;
  p = scan_pri_strict(p, end, pri);
  if (p == nullptr) {
    return decode_status::fail("bad_pri", "rfc5424: PRI must be <0-191> without leading zeros");
  }

  // VERSION: 1-999 without leading zero, then SP.
  {
    const char* v = p;
    if (p == end || *p < '1' || *p > '9') {
      return decode_status::fail("bad_version",
                                 "rfc5424: VERSION must be 1-999 without leading zeros");
    }
    while (p < end && is_digit(*p) && p - v < 3) ++p;
    if (p == end) return truncated_header;
    if (*p != ' ') {
      return decode_status::fail("bad_version",
                                 "rfc5424: VERSION must be 1-999 without leading zeros");
    }
    ++p;
  }

  // TIMESTAMP
  if (p < end && *p == '-' && (p + 1 == end || p[1] == ' ')) {
    if (p + 1 == end) return truncated_header;
    p += 2;
  } else {
    const char* ts_end = scan_rfc5424_timestamp(p, end);
    if (ts_end == nullptr || (ts_end < end && *ts_end != ' ')) {
      return decode_status::fail("bad_timestamp",
                                 "rfc5424: TIMESTAMP must be '-' or RFC 3339 with upper-case T "
                                 "and Z, at most 6 fraction digits and a real date and time");
    }
    if (ts_end == end) return truncated_header;
    out.timestamp.assign(p, static_cast<std::size_t>(ts_end - p));
    p = ts_end + 1;
  }

  decode_status st = field_status(scan_header_field(p, end, 255, out.host), hostname_errors);
  if (!st.is_ok()) return st;
  st = field_status(scan_header_field(p, end, 48, out.app), app_name_errors);
  if (!st.is_ok()) return st;
  st = field_status(scan_header_field(p, end, 128, out.procid), procid_errors);
  if (!st.is_ok()) return st;
  st = field_status(scan_header_field(p, end, 32, out.msgid), msgid_errors);
  if (!st.is_ok()) return st;

  st = scan_structured_data(p, end, out.sd);
  if (!st.is_ok()) return st;

  if (p < end) {
    if (*p != ' ') return bad_sd("rfc5424: STRUCTURED-DATA must be followed by a space or the end");
    ++p;
    // MSG-UTF8 starts with a BOM, which is not part of the text.
    if (end - p >= 3 && static_cast<unsigned char>(p[0]) == 0xEF &&
        static_cast<unsigned char>(p[1]) == 0xBB && static_cast<unsigned char>(p[2]) == 0xBF) {
      p += 3;
    }
    out.message = string_view(p, static_cast<std::size_t>(end - p));
  }

  out.facility = pri >> 3;
  out.severity = pri & 7;
  out.format = "rfc5424";
  return decode_status::ok();
}

namespace {
// Control characters other than TAB: what separates binary junk from a PRI-less text line.
bool has_control_bytes(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && u != '\t') || u == 0x7F;
  });
}
}  // namespace

decode_status decode_rfc3164(std::string_view msg, const syslog_decode_context& ctx, event& out) {
  out.clear_decoded();
  msg = strip_trailing(msg);
  if (msg.empty()) return decode_status::fail("empty", "rfc3164: empty message");
  const char* p = msg.data();
  const char* const end = p + msg.size();

  // PRI, leniently: leading zeros are fine, but a '<' must open a real one.
  int pri = 1 * 8 + 5;  // user.notice, as an RFC 3164 relay assumes
  if (*p == '<') {
    const char* d = ++p;
    int v = 0;
    while (p < end && is_digit(*p) && p - d < 3) v = v * 10 + digit(*p++);
    if (p == d || p == end || *p != '>' || v > 191) {
      return decode_status::fail("bad_pri", "rfc3164: PRI must be <0-191>");
    }
    pri = v;
    ++p;
    while (p < end && *p == ' ') ++p;  // "<38> Mar  7 ...", "<15> openvpn[2499]: ..."
    if (p == end) return decode_status::fail("empty", "rfc3164: nothing after the PRI");
  } else if (has_control_bytes(msg)) {
    return decode_status::fail("not_syslog", "rfc3164: no <PRI> and binary content");
  }

  p = skip_sequence_number(p, end);

  civil_timestamp ts;
  bool have_ts = scan_3164_timestamp(p, end, ts);
  bool have_host = false;
  if (!have_ts) {
    // Cisco "logging origin-id": "router1: *Mar  1 18:46:11.123: %SYS-..."
    const char* we = word_end(p, end);
    if (we - p > 1 && we[-1] == ':' && we < end) {
      const char* q = we + 1;
      const string_view origin(p, static_cast<std::size_t>(we - 1 - p));
      if (looks_like_host(origin) && scan_3164_timestamp(q, end, ts)) {
        out.host = origin;
        have_host = true;
        have_ts = true;
        p = q;
      }
    }
  }

  if (have_ts) {
    set_3164_timestamp(ts, ctx, out);
    if (p < end) ++p;  // the space after the timestamp
    if (!have_host) {
      const char* we = word_end(p, end);
      const string_view word(p, static_cast<std::size_t>(we - p));
      if (we < end && looks_like_host(word)) {
        out.host = word;
        have_host = true;
        p = we + 1;
      }
    }
    // Cisco devices logging by name send "host : %ASA-...".
    if (have_host && p < end && *p == ':' && (p + 1 == end || p[1] == ' ')) {
      p = p + 1 == end ? end : p + 2;
    }
    if (const char* q = scan_tag(p, end, true, out.app, out.procid)) p = q;
  } else if (const char* q = scan_tag(p, end, false, out.app, out.procid)) {
    p = q;
  }

  if (p < end) out.message = string_view(p, static_cast<std::size_t>(end - p));
  out.facility = pri >> 3;
  out.severity = pri & 7;
  out.format = "rfc3164";
  return decode_status::ok();
}

namespace {

// "<PRI>1 ": a sender that means RFC 5424, however badly it writes the rest. The PRI leniently
// (leading zeros). Returns the position after "1 " or nullptr.
const char* rfc5424_start(const char* p, const char* end, int& pri) {
  if (p == end || *p != '<') return nullptr;
  const char* d = ++p;
  int v = 0;
  while (p < end && is_digit(*p) && p - d < 3) v = v * 10 + digit(*p++);
  if (p == d || v > 191 || at(p, end, 0) != '>' || at(p, end, 1) != '1' || at(p, end, 2) != ' ') {
    return nullptr;
  }
  pri = v;
  return p + 3;
}

// The next space-separated token at p (runs of spaces skipped first); p moves past it and the
// space after it.
string_view next_token(const char*& p, const char* end) {
  while (p < end && *p == ' ') ++p;
  const char* we = word_end(p, end);
  const string_view token(p, static_cast<std::size_t>(we - p));
  p = we < end ? we + 1 : we;
  return token;
}

// A header field as RFC 5424 wants it (1..max PRINTUSASCII, "-" = absent); otherwise absent.
string_view header_field_or_absent(string_view token, std::size_t max) {
  if (token.empty() || token.size() > max || token == "-") return {};
  const char* p = token.data();
  if (find_non_print(p, p + token.size()) != p + token.size()) return {};
  return token;
}

// SD-NAME as broken senders write it: up to 255 bytes of anything printable but '=', ']', '"'
// and space (VMware sends names over 32 characters). Returns the end or nullptr.
const char* scan_lenient_sd_name(const char* p, const char* end) {
  const char* start = p;
  while (p < end && p - start < 255 && is_print_usascii(*p) && *p != '=' && *p != ']' &&
         *p != '"') {
    ++p;
  }
  return p == start ? nullptr : p;
}

// STRUCTURED-DATA repaired the way mature receivers do: names of any sensible length and
// unquoted values (VMware ESXi's `[Originator@6876 sub=Vimsvc.ha-eventmgr opID=esx-1f]`), which
// end at a space or ']'. An element whose SD-ID repeats an earlier one is dropped. Returns false
// (and leaves `sd` as it was) when the text cannot be read as structured data at all.
bool scan_lenient_structured_data(const char*& p, const char* end, std::vector<sd_param>& sd) {
  const char* q = p;
  const std::size_t kept = sd.size();
  while (q < end && *q == '[') {
    const char* element = q++;
    const char* id_end = scan_lenient_sd_name(q, end);
    if (id_end == nullptr) {
      q = element;  // not an element: MSG starts at its '['
      break;
    }
    const string_view id(q, static_cast<std::size_t>(id_end - q));
    q = id_end;
    const std::size_t element_start = sd.size();
    bool closed = false;
    while (q < end) {
      while (q < end && *q == ' ') ++q;
      if (q < end && *q == ']') {
        ++q;
        closed = true;
        break;
      }
      const char* name_end = scan_lenient_sd_name(q, end);
      if (name_end == nullptr || at(name_end, end, 0) != '=') break;
      const string_view name(q, static_cast<std::size_t>(name_end - q));
      q = name_end + 1;
      const char* value = q;
      if (q < end && *q == '"') {
        value = ++q;
        while (true) {
          q = find_quote_or_backslash(q, end);
          if (q == end || *q == '"') break;
          q += end - q > 1 ? 2 : 1;
        }
        if (q == end) break;
        sd.push_back({id, name, string_view(value, static_cast<std::size_t>(q - value))});
        ++q;
      } else {
        while (q < end && *q != ' ' && *q != ']') ++q;
        sd.push_back({id, name, string_view(value, static_cast<std::size_t>(q - value))});
      }
    }
    if (!closed) {
      sd.resize(kept);
      return false;
    }
    const bool duplicate =
        std::any_of(sd.begin(), sd.begin() + static_cast<std::ptrdiff_t>(element_start),
                    [&](const sd_param& e) { return e.id == id; });
    if (duplicate) {
      sd.resize(element_start);
    } else if (sd.size() == element_start) {
      sd.push_back({id, {}, {}});
    }
  }
  if (sd.size() == kept && q == p) return false;
  p = q;
  return true;
}

// What decode_syslog_auto does with a "<PRI>1 " line that strict RFC 5424 refused: keep each
// well-formed header field (a malformed one is left absent), repair the structured data or,
// when it cannot be read, make it part of MSG, and say why in parse_error.
void decode_rfc5424_best_effort(std::string_view msg, int pri, const char* p, decode_status strict,
                                const syslog_decode_context& ctx, event& out) {
  out.clear_decoded();
  const char* const end = msg.data() + msg.size();
  const string_view ts = next_token(p, end);
  if (ts != "-") {
    const char* t = ts.data();
    const char* ts_end = scan_rfc5424_timestamp(t, t + ts.size());
    civil_timestamp lenient;
    if (ts_end == t + ts.size()) {
      out.timestamp.assign(ts);
    } else if (scan_iso_timestamp(t, ts.data() + ts.size(), lenient) &&
               t == ts.data() + ts.size()) {
      set_3164_timestamp(lenient, ctx, out);  // lower-case t/z, ±hhmm, nine digits, no zone
    }
  }
  out.host = header_field_or_absent(next_token(p, end), 255);
  out.app = header_field_or_absent(next_token(p, end), 48);
  out.procid = header_field_or_absent(next_token(p, end), 128);
  out.msgid = header_field_or_absent(next_token(p, end), 32);
  while (p < end && *p == ' ') ++p;
  if (p < end && *p == '-' && (p + 1 == end || p[1] == ' ')) {
    ++p;
  } else if (p < end && *p == '[') {
    scan_lenient_structured_data(p, end, out.sd);
  }
  if (p < end && *p == ' ') ++p;
  if (end - p >= 3 && static_cast<unsigned char>(p[0]) == 0xEF &&
      static_cast<unsigned char>(p[1]) == 0xBB && static_cast<unsigned char>(p[2]) == 0xBF) {
    p += 3;
  }
  if (p < end) out.message = string_view(p, static_cast<std::size_t>(end - p));
  out.facility = pri >> 3;
  out.severity = pri & 7;
  out.format = "rfc5424";
  out.parse_error = strict.code;
}

}  // namespace

decode_status decode_syslog_auto(std::string_view msg, const syslog_decode_context& ctx,
                                 event& out) {
  const decode_status st = decode_rfc5424(msg, out);
  if (st.is_ok()) return st;
  const std::string_view line = strip_trailing(msg);
  int pri = 0;
  if (const char* rest = rfc5424_start(line.data(), line.data() + line.size(), pri)) {
    decode_rfc5424_best_effort(line, pri, rest, st, ctx, out);
    return decode_status::ok();
  }
  return decode_rfc3164(msg, ctx, out);
}

}  // namespace tocsin::collector
