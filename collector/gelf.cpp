#include "collector/gelf.hpp"
#include "collector/json_scan.hpp"
#include "core/utf8.hpp"

#include <zlib.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>

namespace tocsin::collector {
namespace {

using json = nlohmann::json;

constexpr int max_depth = 64;
// RFC 3339 needs a four-digit year: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z.
constexpr std::int64_t min_epoch_seconds = -62135596800;
constexpr std::int64_t max_epoch_seconds = 253402300799;

// Copies `s` replacing each byte that is not part of a valid UTF-8 sequence with U+FFFD.
std::string replace_invalid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  std::size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      out += s[i++];
      continue;
    }
    const std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

std::string_view non_empty_string(const json::object_t& obj, std::string_view key) {
  const auto it = obj.find(key);
  if (it == obj.end() || !it->second.is_string()) return {};
  return it->second.get_ref<const std::string&>();
}

// GELF `level` → syslog severity 0..7, or -1.
int parse_level(const json& v) {
  std::int64_t n = -1;
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    n = u <= 7 ? static_cast<std::int64_t>(u) : -1;
  } else if (v.is_number_integer()) {
    n = v.get<std::int64_t>();
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (d >= 0 && d <= 7 && d == std::floor(d)) n = static_cast<std::int64_t>(d);
  } else if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    const auto* end = s.data() + s.size();
    const auto [p, ec] = std::from_chars(s.data(), end, n);
    if (ec != std::errc{} || p != end || s.empty()) n = -1;
  }
  return n >= 0 && n <= 7 ? static_cast<int>(n) : -1;
}

void append_digits(std::string& out, std::int64_t v, int width) {
  char buf[8];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, static_cast<std::size_t>(width));
}

// Formats microseconds since the epoch as RFC 3339 UTC with 0, 3 or 6 fraction digits.
void format_timestamp(std::int64_t micros, int fraction_digits, std::string& out) {
  using namespace std::chrono;
  const sys_time<microseconds> tp{microseconds{micros}};
  const auto day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss hms{tp - day};
  out.clear();
  append_digits(out, static_cast<int>(ymd.year()), 4);
  out += '-';
  append_digits(out, static_cast<unsigned>(ymd.month()), 2);
  out += '-';
  append_digits(out, static_cast<unsigned>(ymd.day()), 2);
  out += 'T';
  append_digits(out, hms.hours().count(), 2);
  out += ':';
  append_digits(out, hms.minutes().count(), 2);
  out += ':';
  append_digits(out, hms.seconds().count(), 2);
  if (fraction_digits > 0) {
    out += '.';
    const std::int64_t us = hms.subseconds().count();
    append_digits(out, fraction_digits == 3 ? us / 1000 : us, fraction_digits);
  }
  out += 'Z';
}

bool in_range(double seconds) {
  return std::isfinite(seconds) && seconds >= static_cast<double>(min_epoch_seconds) &&
         seconds < static_cast<double>(max_epoch_seconds + 1);
}

std::int64_t round_micros(double seconds) {
  // Clamp so rounding just below 10000-01-01 cannot step into year 10000.
  const auto us = std::llround(seconds * 1e6);
  return std::min<std::int64_t>(us, max_epoch_seconds * 1'000'000 + 999'999);
}

// GELF `timestamp` → RFC 3339 in `out`; false (and `out` empty) when unusable.
bool parse_timestamp(const json& v, std::string& out) {
  out.clear();
  if (v.is_number_unsigned()) {
    const auto s = v.get<std::uint64_t>();
    if (s > static_cast<std::uint64_t>(max_epoch_seconds)) return false;
    format_timestamp(static_cast<std::int64_t>(s) * 1'000'000, 0, out);
    return true;
  }
  if (v.is_number_integer()) {
    const auto s = v.get<std::int64_t>();
    if (s < min_epoch_seconds || s > max_epoch_seconds) return false;
    format_timestamp(s * 1'000'000, 0, out);
    return true;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!in_range(d)) return false;
    const auto us = round_micros(d);
    format_timestamp(us, us % 1000 == 0 ? 3 : 6, out);
    return true;
  }
  if (!v.is_string()) return false;
  // A numeric string: -?digits(.digits)?; its fraction length tells the sender's precision.
  const auto& s = v.get_ref<const std::string&>();
  std::size_t i = !s.empty() && s[0] == '-' ? 1 : 0;
  const std::size_t int_start = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == int_start) return false;
  std::size_t fraction = 0;
  if (i < s.size() && s[i] == '.') {
    const std::size_t frac_start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    fraction = i - frac_start;
    if (fraction == 0) return false;
  }
  if (i != s.size()) return false;
  double d = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc{} || !in_range(d)) return false;
  format_timestamp(round_micros(d), fraction == 0 ? 0 : fraction <= 3 ? 3 : 6, out);
  return true;
}

// Keys whose values are read into the event itself (never copied into fields).
bool is_mapped_key(std::string_view key) {
  return key == "host" || key == "short_message" || key == "version";
}

// One inflate stream per thread, reset per payload: inflateInit2 allocates, inflateReset does
// not, and a shard decodes many payloads.
class inflater {
 public:
  inflater() { ok_ = inflateInit2(&zs_, 15 + 32) == Z_OK; }  // 15 + 32: zlib or gzip header
  ~inflater() {
    if (ok_) inflateEnd(&zs_);
  }
  inflater(const inflater&) = delete;
  inflater& operator=(const inflater&) = delete;

  decode_status inflate_into(std::string_view in, std::size_t max_bytes, std::string& out) {
    out.clear();
    if (!ok_ || in.size() > std::numeric_limits<uInt>::max()) {
      return decode_status::fail("bad_compression", "cannot start decompression");
    }
    inflateReset(&zs_);
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    // Room for one byte past the cap: producing it proves the output is too large.
    const std::size_t limit =
        max_bytes == std::numeric_limits<std::size_t>::max() ? max_bytes : max_bytes + 1;
    std::size_t produced = 0;
    std::size_t size = std::min(limit, std::max<std::size_t>(in.size() * 4, 4096));
    for (;;) {
      out.resize(size);
      const std::size_t room =
          std::min<std::size_t>(size - produced, std::numeric_limits<uInt>::max());
      zs_.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
      zs_.avail_out = static_cast<uInt>(room);
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      produced += room - zs_.avail_out;
      if (produced > max_bytes) {
        out.clear();
        return decode_status::fail("decompressed_too_large",
                                   "GELF payload is larger than the limit once decompressed");
      }
      if (rc == Z_STREAM_END) break;  // bytes after the end of the stream are ignored
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        out.clear();
        return decode_status::fail("bad_compression", "corrupt compressed GELF payload");
      }
      if (zs_.avail_out != 0) {  // all input consumed and the stream did not end
        out.clear();
        return decode_status::fail("bad_compression", "truncated compressed GELF payload");
      }
      if (produced == size) size = std::min(limit, size * 2);
    }
    out.resize(produced);
    return decode_status::ok();
  }

 private:
  z_stream zs_{};
  bool ok_ = false;
};

bool is_gzip(std::string_view p) {
  return p.size() >= 2 && static_cast<unsigned char>(p[0]) == 0x1f &&
         static_cast<unsigned char>(p[1]) == 0x8b;
}

// RFC 1950: CM = 8 (deflate), CINFO <= 7, and CMF*256 + FLG a multiple of 31. Usually 78 9c,
// but small-window streams start 08..68. No JSON text starts with one of these bytes.
bool is_zlib(std::string_view p) {
  if (p.size() < 2) return false;
  const auto cmf = static_cast<unsigned char>(p[0]);
  const auto flg = static_cast<unsigned char>(p[1]);
  return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && (cmf * 256u + flg) % 31 == 0;
}

}  // namespace

decode_status decode_gelf_json(std::string_view text, event& out) {
  out.clear_decoded();
  out.format = "gelf";

  // GELF over TCP is NUL-terminated and some UDP senders keep the terminator.
  while (!text.empty() && text.back() == '\0') text.remove_suffix(1);

  const json_scan scan = scan_json_document(text, max_depth);
  if (scan.too_deep) {
    return decode_status::fail("bad_json", "GELF JSON is nested deeper than 64 levels");
  }
  if (scan.valid_utf8) {
    out.owned_doc = json::parse(text.begin(), text.end(), nullptr, false);
  } else {
    const std::string clean = replace_invalid_utf8(text);
    out.owned_doc = json::parse(clean.begin(), clean.end(), nullptr, false);
  }
  if (out.owned_doc.is_discarded()) {
    out.owned_doc = nullptr;
    return decode_status::fail("bad_json", "GELF payload is not valid JSON");
  }
  if (!out.owned_doc.is_object()) {
    return decode_status::fail("not_object", "GELF payload is not a JSON object");
  }
  auto& obj = out.owned_doc.get_ref<json::object_t&>();

  out.host = non_empty_string(obj, "host");
  if (out.host.empty()) {
    return decode_status::fail("missing_host", "GELF host must be a non-empty string");
  }
  out.message = non_empty_string(obj, "short_message");
  std::string_view message_key = "short_message";
  if (out.message.empty()) {
    out.message = non_empty_string(obj, "message");
    message_key = "message";
  }
  if (out.message.empty()) {
    return decode_status::fail("missing_message", "GELF short_message must be a non-empty string");
  }
  for (const std::string_view key : {"_app", "_application_name", "_tag"}) {
    out.app = non_empty_string(obj, key);
    if (!out.app.empty()) break;
  }

  // Views into `obj` stay valid below: std::map nodes never move, and the values viewed
  // (host, message, app) are neither moved nor modified.
  json::object_t fields;
  for (auto& [key_string, value] : obj) {
    // string_view comparisons check the length first: cheaper than std::string == "literal".
    const std::string_view key = key_string;
    if (value.is_null() || is_mapped_key(key) || key == message_key) continue;
    if (key == "level") {
      out.severity = parse_level(value);
      if (out.severity >= 0) continue;
    } else if (key == "timestamp") {
      if (parse_timestamp(value, out.timestamp)) continue;
    }
    if (key.size() > 1 && key[0] == '_') {
      if (key == "_id") continue;
      const bool is_app = !out.app.empty() && value.is_string() &&
                          value.get_ref<const std::string&>().data() == out.app.data();
      // The app value is copied, not moved, because out.app views it.
      fields[std::string(key.substr(1))] = is_app ? value : std::move(value);
    } else if (key != "_") {
      // emplace: a `_x` of the same name (processed before or after) takes precedence.
      fields.emplace(key_string, std::move(value));
    }
  }
  if (!fields.empty()) out.fields = std::move(fields);
  return decode_status::ok();
}

decode_status decode_gelf_payload(std::string_view payload, std::size_t max_bytes,
                                  std::string& scratch, event& out) {
  if (is_gzip(payload) || is_zlib(payload)) {
    thread_local inflater inf;
    const decode_status st = inf.inflate_into(payload, max_bytes, scratch);
    if (!st.is_ok()) {
      out.clear_decoded();
      out.format = "gelf";
      return st;
    }
    return decode_gelf_json(scratch, out);
  }
  if (payload.size() >= 2 && static_cast<unsigned char>(payload[0]) == 0x1e &&
      static_cast<unsigned char>(payload[1]) == 0x0f) {
    out.clear_decoded();
    out.format = "gelf";
    return decode_status::fail("unexpected_chunk", "chunked GELF is only accepted over UDP");
  }
  if (payload.size() > max_bytes) {
    out.clear_decoded();
    out.format = "gelf";
    return decode_status::fail("message_too_large", "GELF payload is larger than the limit");
  }
  return decode_gelf_json(payload, out);
}

}  // namespace tocsin::collector
