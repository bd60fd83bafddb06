// Tests for collector/gelf.hpp: GELF JSON mapping and payload decompression.
// Cases come from the GELF 1.1 spec example, bytes graypy 2.1 (Debian's python3-graypy)
// produces, and the fields Docker's GELF logging driver sends.

#include "collector/gelf.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tests/support/bytes.hpp"

namespace tocsin::collector {
namespace {

using test::deflate_with;

using json = nlohmann::json;

struct json_case {
  std::string name;
  std::string input;
  const char* error;  // nullptr: accepted
  std::string host = {}, app = {}, message = {};
  int severity = -1;
  std::string timestamp = {};
  std::string fields = "null";  // expected out.fields, as JSON text
};

const std::string spec_example =
    R"({"version":"1.1","host":"example.org","short_message":"A short message that helps you identify what is going on",)"
    R"("full_message":"Backtrace here\n\nmore stuff","timestamp":1385053862.3072,"level":1,)"
    R"("_user_id":9001,"_some_info":"foo","_some_env_var":"bar"})";

// What graypy 2.1's GELFUDPHandler builds for logger "myapp", WARNING, extra={none_field: None}.
const std::string graypy_example =
    R"({"version":"1.0","host":"vm","short_message":"hello world","timestamp":1795668513.8768847,)"
    R"("level":4,"facility":"myapp","file":"/srv/app.py","line":42,"_function":null,"_pid":5204,)"
    R"("_thread_name":"MainThread","_process_name":"MainProcess","_stack_info":null,)"
    R"("_none_field":null,"_user_id":9001})";

const std::string docker_example =
    R"({"version":"1.1","host":"docker-host","short_message":"GET / HTTP/1.1 200",)"
    R"("timestamp":1700000000.123,"level":6,"_command":"nginx -g daemon off;",)"
    R"("_container_id":"8c3a5f1e2b4d9a7c6e5f4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3b2a19081",)"
    R"("_container_name":"web","_created":"2023-11-14T22:10:00.000000000Z",)"
    R"("_image_id":"sha256:0123abcd","_image_name":"nginx:1.25","_tag":"8c3a5f1e2b4d"})";

std::vector<json_case> json_cases() {
  return {
      {"spec_example", spec_example, nullptr, "example.org", "",
       "A short message that helps you identify what is going on", 1, "2013-11-21T17:11:02.307200Z",
       R"({"full_message":"Backtrace here\n\nmore stuff","some_env_var":"bar","some_info":"foo","user_id":9001})"},
      {"graypy_1_0", graypy_example, nullptr, "vm", "", "hello world", 4,
       "2026-11-26T04:48:33.876885Z",
       R"({"facility":"myapp","file":"/srv/app.py","line":42,"pid":5204,"process_name":"MainProcess","thread_name":"MainThread","user_id":9001})"},
      {"docker_driver", docker_example, nullptr, "docker-host", "8c3a5f1e2b4d",
       "GET / HTTP/1.1 200", 6, "2023-11-14T22:13:20.123Z",
       R"({"command":"nginx -g daemon off;","container_id":"8c3a5f1e2b4d9a7c6e5f4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3b2a19081","container_name":"web","created":"2023-11-14T22:10:00.000000000Z","image_id":"sha256:0123abcd","image_name":"nginx:1.25","tag":"8c3a5f1e2b4d"})"},
      {"minimal", R"({"host":"h","short_message":"m"})", nullptr, "h", "", "m"},
      {"version_missing_other_value", R"({"version":"2.0","host":"h","short_message":"m"})",
       nullptr, "h", "", "m"},
      {"version_number", R"({"version":1.1,"host":"h","short_message":"m"})", nullptr, "h", "",
       "m"},
      // app: _app, then _application_name, then _tag; the field stays in fields too.
      {"app_precedence",
       R"({"host":"h","short_message":"m","_tag":"t","_application_name":"an","_app":"a"})",
       nullptr, "h", "a", "m", -1, "", R"({"app":"a","application_name":"an","tag":"t"})"},
      {"app_from_application_name",
       R"({"host":"h","short_message":"m","_tag":"t","_application_name":"an"})", nullptr, "h",
       "an", "m", -1, "", R"({"application_name":"an","tag":"t"})"},
      {"app_empty_falls_through", R"({"host":"h","short_message":"m","_app":"","_tag":"t"})",
       nullptr, "h", "t", "m", -1, "", R"({"app":"","tag":"t"})"},
      {"app_not_string", R"({"host":"h","short_message":"m","_app":7})", nullptr, "h", "", "m", -1,
       "", R"({"app":7})"},
      // message: short_message, else `message`.
      {"message_fallback", R"({"host":"h","message":"from message"})", nullptr, "h", "",
       "from message"},
      {"message_fallback_on_empty_short",
       R"({"host":"h","short_message":"","message":"from message"})", nullptr, "h", "",
       "from message"},
      {"message_kept_in_fields", R"({"host":"h","short_message":"s","message":"m"})", nullptr, "h",
       "", "s", -1, "", R"({"message":"m"})"},
      // level
      {"level_numeric_string", R"({"host":"h","short_message":"m","level":"3"})", nullptr, "h", "",
       "m", 3},
      {"level_float_integral", R"({"host":"h","short_message":"m","level":7.0})", nullptr, "h", "",
       "m", 7},
      {"level_zero", R"({"host":"h","short_message":"m","level":0})", nullptr, "h", "", "m", 0},
      {"level_out_of_range", R"({"host":"h","short_message":"m","level":8})", nullptr, "h", "", "m",
       -1, "", R"({"level":8})"},
      {"level_negative", R"({"host":"h","short_message":"m","level":-1})", nullptr, "h", "", "m",
       -1, "", R"({"level":-1})"},
      {"level_name", R"({"host":"h","short_message":"m","level":"ERROR"})", nullptr, "h", "", "m",
       -1, "", R"({"level":"ERROR"})"},
      {"level_fraction", R"({"host":"h","short_message":"m","level":2.5})", nullptr, "h", "", "m",
       -1, "", R"({"level":2.5})"},
      {"level_null", R"({"host":"h","short_message":"m","level":null})", nullptr, "h", "", "m"},
      // timestamp
      {"timestamp_integer", R"({"host":"h","short_message":"m","timestamp":1385053862})", nullptr,
       "h", "", "m", -1, "2013-11-21T17:11:02Z"},
      {"timestamp_epoch_zero", R"({"host":"h","short_message":"m","timestamp":0})", nullptr, "h",
       "", "m", -1, "1970-01-01T00:00:00Z"},
      {"timestamp_float_whole", R"({"host":"h","short_message":"m","timestamp":1385053862.0})",
       nullptr, "h", "", "m", -1, "2013-11-21T17:11:02.000Z"},
      {"timestamp_string_ms", R"({"host":"h","short_message":"m","timestamp":"1385053862.5"})",
       nullptr, "h", "", "m", -1, "2013-11-21T17:11:02.500Z"},
      {"timestamp_string_us", R"({"host":"h","short_message":"m","timestamp":"1385053862.123456"})",
       nullptr, "h", "", "m", -1, "2013-11-21T17:11:02.123456Z"},
      {"timestamp_string_int", R"({"host":"h","short_message":"m","timestamp":"1385053862"})",
       nullptr, "h", "", "m", -1, "2013-11-21T17:11:02Z"},
      {"timestamp_leap_day", R"({"host":"h","short_message":"m","timestamp":1709164800.25})",
       nullptr, "h", "", "m", -1, "2024-02-29T00:00:00.250Z"},
      {"timestamp_last_second", R"({"host":"h","short_message":"m","timestamp":253402300799})",
       nullptr, "h", "", "m", -1, "9999-12-31T23:59:59Z"},
      {"timestamp_year_10000", R"({"host":"h","short_message":"m","timestamp":253402300800})",
       nullptr, "h", "", "m", -1, "", R"({"timestamp":253402300800})"},
      {"timestamp_milliseconds_by_mistake",
       R"({"host":"h","short_message":"m","timestamp":1700000000123000})", nullptr, "h", "", "m",
       -1, "", R"({"timestamp":1700000000123000})"},
      {"timestamp_garbage", R"({"host":"h","short_message":"m","timestamp":"yesterday"})", nullptr,
       "h", "", "m", -1, "", R"({"timestamp":"yesterday"})"},
      {"timestamp_exponent_string", R"({"host":"h","short_message":"m","timestamp":"1e9"})",
       nullptr, "h", "", "m", -1, "", R"({"timestamp":"1e9"})"},
      {"timestamp_exponent_number", R"({"host":"h","short_message":"m","timestamp":1.7e9})",
       nullptr, "h", "", "m", -1, "2023-11-14T22:13:20.000Z"},
      // extras
      {"id_dropped", R"({"host":"h","short_message":"m","_id":"x","_":"y","_k":"v"})", nullptr, "h",
       "", "m", -1, "", R"({"k":"v"})"},
      {"null_extras_omitted", R"({"host":"h","short_message":"m","_a":null,"b":null})", nullptr,
       "h", "", "m"},
      {"booleans_and_nested_kept",
       R"({"host":"h","short_message":"m","_ok":true,"_obj":{"a":[1,{"b":null}]},"_arr":[1,"x"]})",
       nullptr, "h", "", "m", -1, "", R"({"arr":[1,"x"],"obj":{"a":[1,{"b":null}]},"ok":true})"},
      {"legacy_and_unknown_keys",
       R"({"host":"h","short_message":"m","facility":"daemon","line":7,"file":"a.c","Custom":1})",
       nullptr, "h", "", "m", -1, "", R"({"Custom":1,"facility":"daemon","file":"a.c","line":7})"},
      {"underscore_wins_over_legacy",
       R"({"host":"h","short_message":"m","facility":"legacy","_facility":"new","_Zed":1,"Zed":2})",
       nullptr, "h", "", "m", -1, "", R"({"Zed":1,"facility":"new"})"},
      {"empty_string_extra_kept", R"({"host":"h","short_message":"m","_e":""})", nullptr, "h", "",
       "m", -1, "", R"({"e":""})"},
      {"duplicate_key_last_wins", R"({"host":"a","host":"b","short_message":"m"})", nullptr, "b",
       "", "m"},
      // encodings and framing
      {"invalid_utf8_replaced",
       "{\"host\":\"h\",\"short_message\":\"a\xff"
       "b\xc3\"}",
       nullptr, "h", "",
       "a\xEF\xBF\xBD"
       "b\xEF\xBF\xBD"},
      {"invalid_utf8_in_key", "{\"host\":\"h\",\"short_message\":\"m\",\"_k\xe9y\":1}", nullptr,
       "h", "", "m", -1, "", "{\"k\xEF\xBF\xBDy\":1}"},
      {"valid_utf8_kept",
       "{\"host\":\"h\\u00e9\",\"short_message\":\"\xe2\x82\xac \xf0\x9f\x94\xa5\"}", nullptr,
       "h\xc3\xa9", "", "\xe2\x82\xac \xf0\x9f\x94\xa5"},
      {"trailing_nuls", std::string(R"({"host":"h","short_message":"m"})") + '\0' + '\0', nullptr,
       "h", "", "m"},
      {"surrounding_whitespace", " \r\n\t{\"host\":\"h\",\"short_message\":\"m\"}\n", nullptr, "h",
       "", "m"},
      {"utf8_bom", "\xEF\xBB\xBF{\"host\":\"h\",\"short_message\":\"m\"}", nullptr, "h", "", "m"},
      // rejects
      {"empty", "", "bad_json"},
      {"truncated", R"({"host":"h","short_message":"m")", "bad_json"},
      {"garbage", "not json at all", "bad_json"},
      {"trailing_garbage", R"({"host":"h","short_message":"m"} x)", "bad_json"},
      {"nul_inside", std::string(R"({"host":"h",)") + '\0' + R"("short_message":"m"})", "bad_json"},
      {"too_deep",
       R"({"host":"h","short_message":"m","_x":)" + std::string(70, '[') + std::string(70, ']') +
           "}",
       "bad_json"},
      {"array", R"([{"host":"h","short_message":"m"}])", "not_object"},
      {"string", R"("host")", "not_object"},
      {"number", "42", "not_object"},
      {"null", "null", "not_object"},
      {"missing_host", R"({"short_message":"m"})", "missing_host"},
      {"empty_host", R"({"host":"","short_message":"m"})", "missing_host"},
      {"numeric_host", R"({"host":42,"short_message":"m"})", "missing_host"},
      {"null_host", R"({"host":null,"short_message":"m"})", "missing_host"},
      {"missing_message", R"({"host":"h"})", "missing_message"},
      {"empty_message", R"({"host":"h","short_message":""})", "missing_message"},
      {"numeric_message", R"({"host":"h","short_message":42})", "missing_message"},
      {"object_message", R"({"host":"h","short_message":{"a":1}})", "missing_message"},
  };
}

class gelf_json_test : public ::testing::TestWithParam<json_case> {};

TEST_P(gelf_json_test, decodes) {
  const json_case& c = GetParam();
  event ev;
  ev.host = "stale";  // must be cleared
  ev.severity = 3;
  const decode_status st = decode_gelf_json(c.input, ev);
  EXPECT_EQ(ev.format, "gelf");
  if (c.error != nullptr) {
    ASSERT_FALSE(st.is_ok());
    EXPECT_STREQ(st.code, c.error);
    EXPECT_NE(st.what, nullptr);
    return;
  }
  ASSERT_TRUE(st.is_ok()) << st.code << ": " << st.what;
  EXPECT_EQ(ev.host, c.host);
  EXPECT_EQ(ev.app, c.app);
  EXPECT_EQ(ev.message, c.message);
  EXPECT_EQ(ev.severity, c.severity);
  EXPECT_EQ(ev.facility, -1);
  EXPECT_EQ(ev.timestamp, c.timestamp);
  EXPECT_EQ(ev.fields, json::parse(c.fields)) << ev.fields.dump();
  EXPECT_TRUE(ev.procid.empty());
  EXPECT_TRUE(ev.msgid.empty());
}

INSTANTIATE_TEST_SUITE_P(table, gelf_json_test, ::testing::ValuesIn(json_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(gelf_json, views_point_into_owned_doc) {
  std::string input = R"({"host":"h1","short_message":"msg","_app":"ap"})";
  event ev;
  ASSERT_TRUE(decode_gelf_json(input, ev).is_ok());
  input.assign(input.size(), 'x');  // the input buffer may be reused right away
  EXPECT_EQ(ev.host, "h1");
  EXPECT_EQ(ev.message, "msg");
  EXPECT_EQ(ev.app, "ap");
  EXPECT_EQ(ev.fields, json::parse(R"({"app":"ap"})"));
  // Moving the event keeps the views valid: the strings live in owned_doc's map nodes.
  event moved = std::move(ev);
  EXPECT_EQ(moved.host, "h1");
  EXPECT_EQ(moved.app, "ap");
}

TEST(gelf_json, event_json_output) {
  event ev;
  ev.input = "gelf-udp";
  ASSERT_TRUE(decode_gelf_json(docker_example, ev).is_ok());
  std::string out;
  append_event_json(ev, out);
  const json j = json::parse(out);
  EXPECT_EQ(j["timestamp"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(j["host"], "docker-host");
  EXPECT_EQ(j["app"], "8c3a5f1e2b4d");
  EXPECT_EQ(j["severity"], "info");
  EXPECT_EQ(j["message"], "GET / HTTP/1.1 200");
  EXPECT_EQ(j["format"], "gelf");
  EXPECT_EQ(j["fields"]["container_name"], "web");
  EXPECT_FALSE(j.contains("facility"));
}

TEST(gelf_json, reuse_event_between_messages) {
  event ev;
  ASSERT_TRUE(decode_gelf_json(spec_example, ev).is_ok());
  ASSERT_TRUE(decode_gelf_json(R"({"host":"h","short_message":"m"})", ev).is_ok());
  EXPECT_EQ(ev.severity, -1);
  EXPECT_TRUE(ev.timestamp.empty());
  EXPECT_TRUE(ev.fields.is_null());
  EXPECT_TRUE(ev.app.empty());
}

// --- compression -------------------------------------------------------------------------

std::string zlib_compress(std::string_view in, int level = Z_DEFAULT_COMPRESSION) {
  uLongf size = compressBound(static_cast<uLong>(in.size()));
  std::string out(size, '\0');
  EXPECT_EQ(
      compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                reinterpret_cast<const Bytef*>(in.data()), static_cast<uLong>(in.size()), level),
      Z_OK);
  out.resize(size);
  return out;
}

const std::string small_json = R"({"host":"h","short_message":"compressed hello","level":5})";

struct payload_case {
  std::string name;
  std::string payload;
  std::size_t max_bytes;
  const char* error;  // nullptr: accepted with message "compressed hello"
};

std::vector<payload_case> payload_cases() {
  const std::string zlib = zlib_compress(small_json);
  const std::string gzip = deflate_with(small_json, 15 + 16);
  std::string corrupt = zlib;
  corrupt[corrupt.size() / 2] ^= 0x55;
  corrupt[corrupt.size() / 2 + 1] ^= 0x55;
  std::string bad_checksum = zlib;
  bad_checksum.back() ^= 0x01;  // the Adler-32 trailer
  std::string gzip_bad_crc = gzip;
  gzip_bad_crc[gzip_bad_crc.size() - 5] ^= 0x01;  // CRC-32 precedes the 4-byte ISIZE
  std::string chunk(
      "\x1e\x0f"
      "12345678\x00\x01",
      12);
  chunk += small_json;
  return {
      {"plain", small_json, 65536, nullptr},
      {"plain_leading_whitespace", "\n  " + small_json, 65536, nullptr},
      {"zlib_default", zlib, 65536, nullptr},
      {"zlib_level0_stored", zlib_compress(small_json, 0), 65536, nullptr},
      {"zlib_best", zlib_compress(small_json, 9), 65536, nullptr},
      {"zlib_small_window", deflate_with(small_json, 9), 65536, nullptr},
      {"gzip", gzip, 65536, nullptr},
      {"zlib_trailing_bytes_ignored", zlib + "junk", 65536, nullptr},
      {"zlib_exactly_at_limit", zlib, small_json.size(), nullptr},
      {"zlib_one_over_limit", zlib, small_json.size() - 1, "decompressed_too_large"},
      {"gzip_one_over_limit", gzip, small_json.size() - 1, "decompressed_too_large"},
      {"plain_exactly_at_limit", small_json, small_json.size(), nullptr},
      {"plain_over_limit", small_json, small_json.size() - 1, "message_too_large"},
      {"zlib_truncated", zlib.substr(0, zlib.size() - 6), 65536, "bad_compression"},
      {"zlib_header_only", zlib.substr(0, 2), 65536, "bad_compression"},
      {"zlib_corrupt", corrupt, 65536, "bad_compression"},
      {"zlib_bad_checksum", bad_checksum, 65536, "bad_compression"},
      {"gzip_bad_crc", gzip_bad_crc, 65536, "bad_compression"},
      {"gzip_magic_only", "\x1f\x8b", 65536, "bad_compression"},
      {"zlib_of_non_json", zlib_compress("hello"), 65536, "bad_json"},
      {"zlib_of_array", zlib_compress("[1,2]"), 65536, "not_object"},
      {"unreassembled_chunk", chunk, 65536, "unexpected_chunk"},
      {"binary_garbage", std::string("\x00\x01\x02\xff", 4), 65536, "bad_json"},
      // 0x78 0x00 fails FCHECK, so it is not taken for zlib.
      {"x_but_not_zlib", std::string("\x78\x00", 2), 65536, "bad_json"},
      {"empty", "", 65536, "bad_json"},
  };
}

class gelf_payload_test : public ::testing::TestWithParam<payload_case> {};

TEST_P(gelf_payload_test, decodes) {
  const payload_case& c = GetParam();
  std::string scratch = "left over from an earlier payload";
  event ev;
  const decode_status st = decode_gelf_payload(c.payload, c.max_bytes, scratch, ev);
  EXPECT_EQ(ev.format, "gelf");
  if (c.error != nullptr) {
    ASSERT_FALSE(st.is_ok());
    EXPECT_STREQ(st.code, c.error);
    return;
  }
  ASSERT_TRUE(st.is_ok()) << st.code << ": " << st.what;
  EXPECT_EQ(ev.host, "h");
  EXPECT_EQ(ev.message, "compressed hello");
  EXPECT_EQ(ev.severity, 5);
}

INSTANTIATE_TEST_SUITE_P(table, gelf_payload_test, ::testing::ValuesIn(payload_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(gelf_payload, zip_bomb_rejected) {
  const std::string zeros(10 * 1024 * 1024, '\0');
  for (const int window_bits : {15, 15 + 16}) {
    const std::string bomb = deflate_with(zeros, window_bits);
    ASSERT_LT(bomb.size(), 20 * 1024u);
    std::string scratch;
    event ev;
    const decode_status st = decode_gelf_payload(bomb, 65536, scratch, ev);
    EXPECT_STREQ(st.code, "decompressed_too_large");
    // The inflate stopped at the cap instead of producing 10 MB.
    EXPECT_LE(scratch.capacity(), 4 * 65536u);
  }
}

TEST(gelf_payload, large_message_grows_scratch) {
  // 300 KB of JSON squeezed into a few KB: the output buffer must grow several times.
  std::string big =
      R"({"host":"h","short_message":"m","_blob":")" + std::string(300000, 'a') + "\"}";
  const std::string z = zlib_compress(big);
  std::string scratch;
  event ev;
  ASSERT_TRUE(decode_gelf_payload(z, 1 << 20, scratch, ev).is_ok());
  EXPECT_EQ(ev.fields["blob"].get_ref<const std::string&>().size(), 300000u);
  EXPECT_STREQ(decode_gelf_payload(z, big.size() - 1, scratch, ev).code, "decompressed_too_large");
  EXPECT_TRUE(decode_gelf_payload(z, big.size(), scratch, ev).is_ok());
}

TEST(gelf_payload, views_survive_scratch_reuse) {
  const std::string z = zlib_compress(R"({"host":"zhost","short_message":"zmsg"})");
  std::string scratch;
  event ev;
  ASSERT_TRUE(decode_gelf_payload(z, 65536, scratch, ev).is_ok());
  scratch.assign(4096, '#');
  EXPECT_EQ(ev.host, "zhost");
  EXPECT_EQ(ev.message, "zmsg");
}

// Every strict prefix of a compressed payload fails cleanly; only the whole one decodes.
TEST(gelf_payload, every_truncation_is_an_error) {
  std::mt19937 rng(7);
  std::string text = R"({"host":"h","short_message":"m","_r":")";
  for (int i = 0; i < 500; ++i) text += static_cast<char>('a' + rng() % 26);
  text += "\"}";
  for (const std::string& full : {zlib_compress(text), deflate_with(text, 15 + 16)}) {
    for (std::size_t n = 0; n < full.size(); ++n) {
      std::string scratch;
      event ev;
      const decode_status st = decode_gelf_payload(full.substr(0, n), 65536, scratch, ev);
      EXPECT_FALSE(st.is_ok()) << "prefix " << n;
    }
    std::string scratch;
    event ev;
    EXPECT_TRUE(decode_gelf_payload(full, 65536, scratch, ev).is_ok());
  }
}

}  // namespace
}  // namespace tocsin::collector
