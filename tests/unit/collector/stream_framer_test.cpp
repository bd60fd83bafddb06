#include "collector/stream_framer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace tocsin::collector {
namespace {

using namespace std::string_literals;
using kind = stream_framer::result::kind;
using mode = stream_framer::mode;

// "MSG-LEN SP MSG" (RFC 6587 §3.4.1).
std::string oc(const std::string& msg) { return std::to_string(msg.size()) + " " + msg; }

// Plays a connection handler with a buffer of framer.buffer_bytes() (or `cap` when non-zero):
// appends each piece as far as it fits, drains frames after every append, and finish()es at the
// end. Returns "F:<frame>" / "E:<code>" per result and checks the framer's invariants.
std::vector<std::string> run(mode m, std::size_t max, const std::vector<std::string_view>& pieces,
                             std::size_t cap = 0) {
  stream_framer framer(m, max);
  if (cap == 0) cap = framer.buffer_bytes();
  std::vector<std::string> out;
  std::string buf;

  auto drain = [&](bool at_end) {
    for (int guard = 0; guard < 1'000'000; ++guard) {
      const std::string_view in(buf);
      const auto r = at_end ? framer.finish(in) : framer.next(in);
      EXPECT_LE(r.consumed, in.size());
      if (r.what == kind::frame) {
        EXPECT_GT(r.consumed, 0u);
        EXPECT_FALSE(r.frame.empty());
        EXPECT_LE(r.frame.size(), max);
        // A view into the input, inside the consumed part.
        EXPECT_GE(r.frame.data(), in.data());
        EXPECT_LE(r.frame.data() + r.frame.size(), in.data() + r.consumed);
        out.push_back("F:" + std::string(r.frame));
      } else if (r.what == kind::error) {
        EXPECT_GT(r.consumed, 0u);
        EXPECT_NE(r.error_code, nullptr);
        out.push_back("E:"s + (r.error_code ? r.error_code : "null"));
      }
      buf.erase(0, r.consumed);
      if (r.what == kind::need_more) {
        // The caller can always append more: the framer never stalls on a full buffer.
        EXPECT_LT(buf.size(), framer.buffer_bytes());
        if (at_end) {
          EXPECT_TRUE(buf.empty());
        }
        return;
      }
    }
    ADD_FAILURE() << "framer does not make progress";
  };

  for (std::string_view piece : pieces) {
    while (!piece.empty()) {
      const std::size_t take = std::min(piece.size(), cap - std::min(cap, buf.size()));
      if (take == 0) {
        ADD_FAILURE() << "caller buffer full after need_more";
        return out;
      }
      buf.append(piece.substr(0, take));
      piece.remove_prefix(take);
      drain(false);
    }
  }
  drain(true);
  return out;
}

struct framer_case {
  const char* name;
  mode m;
  std::size_t max;
  std::string stream;
  std::vector<std::string> expected;
};
void PrintTo(const framer_case& c, std::ostream* os) { *os << c.name; }

std::vector<framer_case> framer_cases() {
  const std::string rsyslog_5424 =
      "<86>1 2026-11-26T04:10:55.120001+00:00 web1 sshd 8710 - - Failed password for root from "
      "203.0.113.9 port 4711 ssh2\n";
  const std::string logger_5424 =
      "<13>1 2026-11-26T04:10:55.120001+00:00 web1 root - - [timeQuality tzKnown=\"1\" "
      "isSynced=\"1\" syncAccuracy=\"44000\"] hello";
  return {
      // Non-transparent framing (RFC 6587 §3.4.2).
      {"lf", mode::syslog, 256, "<34>1 a\n<34>1 b\n", {"F:<34>1 a", "F:<34>1 b"}},
      {"crlf", mode::syslog, 256, "<34>a\r\n<34>b\r\n", {"F:<34>a", "F:<34>b"}},
      {"only_one_cr_stripped", mode::syslog, 256, "a\r\r\n", {"F:a\r"}},
      {"cr_inside_kept", mode::syslog, 256, "a\rb\n", {"F:a\rb"}},
      {"nul", mode::syslog, 256, "<34>a\0<34>b\0"s, {"F:<34>a", "F:<34>b"}},
      {"lf_and_nul_mixed", mode::syslog, 256, "a\nb\0c\r\n"s, {"F:a", "F:b", "F:c"}},
      {"blank_lines_and_stray_nul", mode::syslog, 256, "\n\n\0\r\na\n\0\r\n\n"s, {"F:a"}},
      {"leading_space_kept", mode::syslog, 256, " <34>a\n", {"F: <34>a"}},
      {"netscreen_nul",
       mode::syslog,
       256,
       "<134>Jun  3 12:00:00 ns5gt: NetScreen device_id=ns5gt [Root]system-notification\0"s,
       {"F:<134>Jun  3 12:00:00 ns5gt: NetScreen device_id=ns5gt [Root]system-notification"}},

      // Octet counting (RFC 6587 §3.4.1).
      {"octet_counted", mode::syslog, 256, "5 hello6 world!", {"F:hello", "F:world!"}},
      {"octet_counted_logger", mode::syslog, 256, oc(logger_5424), {"F:" + logger_5424}},
      {"octet_counted_rsyslog_trailing_lf",
       mode::syslog,
       256,
       oc(rsyslog_5424) + oc(rsyslog_5424),
       {"F:" + rsyslog_5424.substr(0, rsyslog_5424.size() - 1),
        "F:" + rsyslog_5424.substr(0, rsyslog_5424.size() - 1)}},
      {"octet_counted_trailing_crlf", mode::syslog, 256, oc("abc\r\n"), {"F:abc"}},
      {"octet_counted_transparent_lf_nul",
       mode::syslog,
       256,
       oc("a\nb\0c"s) + oc("d\n\ne"),
       {"F:a\nb\0c"s, "F:d\n\ne"}},
      {"octet_counted_only_lf_is_empty", mode::syslog, 256, "1 \n2 \r\nx\n", {"F:x"}},
      {"octet_counted_body_of_digits", mode::syslog, 256, "3 1233 4 5", {"F:123", "F:4 5"}},
      {"zero_padded_count", mode::syslog, 256, "000000005 hello\n", {"F:000000005 hello"}},

      // Mixed per frame.
      {"mixed",
       mode::syslog,
       256,
       oc("<13>1 - h a - - - x") + "<13>plain\n" + oc("y") + "z\0"s + "w\r\n" + oc("v"),
       {"F:<13>1 - h a - - - x", "F:<13>plain", "F:y", "F:z", "F:w", "F:v"}},

      // Digit runs that are not MSG-LEN SP are part of a non-transparent frame.
      {"zero_count", mode::syslog, 256, "0 abc\nx\n", {"F:0 abc", "F:x"}},
      {"zero_count_empty", mode::syslog, 256, "0 \n", {"F:0 "}},
      {"leading_zero_count", mode::syslog, 256, "05 hello\n", {"F:05 hello"}},
      {"pri_less_date_line",
       mode::syslog,
       256,
       "2024-05-01 12:00:00 disk full\n",
       {"F:2024-05-01 12:00:00 disk full"}},
      {"digits_then_lf", mode::syslog, 256, "123\n45\0"s, {"F:123", "F:45"}},
      {"digits_then_tab", mode::syslog, 256, "12\tx\n", {"F:12\tx"}},
      {"ten_digit_count", mode::syslog, 256, "1234567890 x\n", {"F:1234567890 x"}},
      {"huge_count_digits",
       mode::syslog,
       256,
       "99999999999999999999 <13>x\nok\n",
       {"F:99999999999999999999 <13>x", "F:ok"}},

      // Oversize, then a good frame that must still come out.
      {"too_large_lf", mode::syslog, 8, "abcdefghi\nok\n", {"E:message_too_large", "F:ok"}},
      {"too_large_nul_terminated",
       mode::syslog,
       8,
       "abcdefghijklmnop\0ok\n"s,
       {"E:message_too_large", "F:ok"}},
      {"too_large_long_line",
       mode::syslog,
       8,
       std::string(100, 'x') + "\nok\n",
       {"E:message_too_large", "F:ok"}},
      {"too_large_twice",
       mode::syslog,
       8,
       "abcdefghi\nabcdefghi\r\nok\n",
       {"E:message_too_large", "E:message_too_large", "F:ok"}},
      {"too_large_counted", mode::syslog, 8, "10 abcdefghijok\n", {"E:message_too_large", "F:ok"}},
      {"too_large_counted_with_lf_inside",
       mode::syslog,
       8,
       oc("abc\ndef\nghi\n") + oc("ok"),
       {"E:message_too_large", "F:ok"}},
      {"too_large_counted_long",
       mode::syslog,
       8,
       oc(std::string(300, '\n')) + "ok\n",
       {"E:message_too_large", "F:ok"}},
      {"too_large_huge_count_at_eof", mode::syslog, 8, "999999999 abc", {"E:message_too_large"}},
      {"exactly_max_lf", mode::syslog, 8, "abcdefgh\nabcdefgh\r\n", {"F:abcdefgh", "F:abcdefgh"}},
      {"exactly_max_counted",
       mode::syslog,
       8,
       oc("abcdefgh") + "8 abcdefg\n",
       {"F:abcdefgh", "F:abcdefg"}},
      {"max_zero", mode::syslog, 0, "a\n\nb\n", {"E:message_too_large", "E:message_too_large"}},

      // End of stream.
      {"eof_unterminated", mode::syslog, 256, "a\nlast", {"F:a", "F:last"}},
      {"eof_cr", mode::syslog, 8, "abcdefgh\r", {"F:abcdefgh"}},
      {"eof_too_large", mode::syslog, 8, "abcdefghi", {"E:message_too_large"}},
      {"eof_partial_digits", mode::syslog, 256, "a\n12", {"F:a", "F:12"}},
      {"eof_partial_counted", mode::syslog, 256, "10 abc", {"E:incomplete_frame"}},
      {"eof_header_only", mode::syslog, 256, "5 ", {"E:incomplete_frame"}},
      {"eof_empty", mode::syslog, 256, "", {}},
      {"eof_blank", mode::syslog, 256, "\r", {}},

      // GELF TCP: NUL only.
      {"gelf", mode::nul, 256, "{\"a\":1}\0{\"b\":2}\0"s, {"F:{\"a\":1}", "F:{\"b\":2}"}},
      {"gelf_lf_is_content", mode::nul, 256, "{\n \"a\": 1\n}\0"s, {"F:{\n \"a\": 1\n}"}},
      {"gelf_separators_trimmed", mode::nul, 256, "\0\0{}\0\n{}\0\r\n \t"s, {"F:{}", "F:{}"}},
      {"gelf_no_octet_counting", mode::nul, 256, "5 hello\0"s, {"F:5 hello"}},
      {"gelf_too_large", mode::nul, 8, "{\"aaaaaaaaa\":1}\0{}\0"s, {"E:message_too_large", "F:{}"}},
      {"gelf_exactly_max", mode::nul, 8, "{\"a\":12}\0"s, {"F:{\"a\":12}"}},
      {"gelf_eof_unterminated", mode::nul, 256, "{}\0{\"x\":1}"s, {"F:{}", "F:{\"x\":1}"}},
      {"gelf_lf_only_sender_is_too_large",
       mode::nul,
       8,
       "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n",
       {"E:message_too_large"}},
  };
}

class stream_framer_table : public ::testing::TestWithParam<framer_case> {};

TEST_P(stream_framer_table, whole_stream) {
  const auto& c = GetParam();
  EXPECT_EQ(run(c.m, c.max, {c.stream}), c.expected);
}

TEST_P(stream_framer_table, unbounded_buffer) {
  const auto& c = GetParam();
  EXPECT_EQ(run(c.m, c.max, {c.stream}, c.stream.size() + 1), c.expected);
}

TEST_P(stream_framer_table, byte_by_byte) {
  const auto& c = GetParam();
  std::vector<std::string_view> pieces;
  for (std::size_t i = 0; i < c.stream.size(); ++i) pieces.push_back({c.stream.data() + i, 1});
  EXPECT_EQ(run(c.m, c.max, pieces), c.expected);
}

TEST_P(stream_framer_table, every_two_way_split) {
  const auto& c = GetParam();
  const std::string_view s(c.stream);
  for (std::size_t i = 0; i <= s.size(); ++i) {
    EXPECT_EQ(run(c.m, c.max, {s.substr(0, i), s.substr(i)}), c.expected) << "split at " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(cases, stream_framer_table, ::testing::ValuesIn(framer_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

// What one next() call returns, including what need_more lets the caller drop.
struct single_call_case {
  const char* name;
  mode m;
  std::string input;
  kind what;
  std::string frame;
  std::size_t consumed;
};
void PrintTo(const single_call_case& c, std::ostream* os) { *os << c.name; }

class stream_framer_single : public ::testing::TestWithParam<single_call_case> {};

TEST_P(stream_framer_single, next) {
  const auto& c = GetParam();
  stream_framer framer(c.m, 16);
  const auto r = framer.next(c.input);
  EXPECT_EQ(r.what, c.what);
  EXPECT_EQ(std::string(r.frame), c.frame);
  EXPECT_EQ(r.consumed, c.consumed);
}

INSTANTIATE_TEST_SUITE_P(
    cases, stream_framer_single,
    ::testing::Values(
        single_call_case{"empty", mode::syslog, "", kind::need_more, "", 0},
        single_call_case{"partial_line", mode::syslog, "<13>ab", kind::need_more, "", 0},
        single_call_case{"blank_lines_consumed", mode::syslog, "\n\r\n\0<13>"s, kind::need_more, "",
                         4},
        single_call_case{"partial_count", mode::syslog, "12", kind::need_more, "", 0},
        single_call_case{"partial_counted_body", mode::syslog, "\n5 abc", kind::need_more, "", 1},
        single_call_case{"line_then_more", mode::syslog, "ab\ncd\n", kind::frame, "ab", 3},
        single_call_case{"counted_then_more", mode::syslog, "2 ab2 cd", kind::frame, "ab", 4},
        single_call_case{"counted_drops_lf", mode::syslog, "3 ab\nx", kind::frame, "ab", 5},
        single_call_case{"oversize_line_without_end", mode::syslog, std::string(18, 'a'),
                         kind::error, "", 18},
        single_call_case{"line_may_end_in_cr", mode::syslog, std::string(16, 'a') + "\r",
                         kind::need_more, "", 0},
        single_call_case{"oversize_counted_drops_body_present", mode::syslog, "20 abc", kind::error,
                         "", 6},
        single_call_case{"gelf_partial", mode::nul, "{\"a\":\n", kind::need_more, "", 0},
        single_call_case{"gelf_frame", mode::nul, "\0{}\0{"s, kind::frame, "{}", 4}),
    [](const auto& info) { return std::string(info.param.name); });

// A 10 MB line in 4 KB reads with a 1 KB limit: one error, the buffer stays bounded, and the next
// frame still comes out.
TEST(stream_framer, huge_line_keeps_buffer_bounded) {
  const std::string stream = std::string(10 << 20, 'x') + "\n<13>ok\n";
  std::vector<std::string_view> pieces;
  for (std::size_t i = 0; i < stream.size(); i += 4096) {
    pieces.push_back(std::string_view(stream).substr(i, 4096));
  }
  EXPECT_EQ(run(mode::syslog, 1024, pieces),
            (std::vector<std::string>{"E:message_too_large", "F:<13>ok"}));
}

// An oversize counted frame is skipped by its count, LFs and all, as the bytes arrive.
// Terminators are searched 512 bytes at a time: an LF or NUL on either side of each window's
// edge, and the earlier of the two when both are in a frame, whatever the frame's length.
TEST(stream_framer, terminators_on_every_side_of_a_search_window) {
  for (std::size_t length = 500; length <= 1100; ++length) {
    for (const char end : {'\n', '\0'}) {
      const std::string line = "<13>" + std::string(length - 4, 'x');
      const std::string stream = line + end + "<13>next\n";
      ASSERT_EQ(run(mode::syslog, 4096, {stream}),
                (std::vector<std::string>{"F:" + line, "F:<13>next"}))
          << length;
    }
    // A NUL-framed stream with no LF at all.
    const std::string frame = "{" + std::string(length - 2, 'y') + "}";
    ASSERT_EQ(run(mode::nul, 4096, {frame + '\0' + frame + '\0'}),
              (std::vector<std::string>{"F:" + frame, "F:" + frame}))
        << length;
  }
  const std::string both = "<13>" + std::string(600, 'x') + '\0' + "tail\n";
  EXPECT_EQ(run(mode::syslog, 4096, {both}),
            (std::vector<std::string>{"F:<13>" + std::string(600, 'x'), "F:tail"}));
}

TEST(stream_framer, oversize_counted_frame_skipped_exactly) {
  const std::string body(100'000, '\n');
  const std::string stream = oc(body) + oc("<13>ok") + "<13>line\n";
  std::vector<std::string_view> pieces;
  for (std::size_t i = 0; i < stream.size(); i += 1500) {
    pieces.push_back(std::string_view(stream).substr(i, 1500));
  }
  EXPECT_EQ(run(mode::syslog, 1024, pieces),
            (std::vector<std::string>{"E:message_too_large", "F:<13>ok", "F:<13>line"}));
}

TEST(stream_framer, buffer_bytes_covers_header) {
  stream_framer framer(mode::syslog, 65536);
  EXPECT_EQ(framer.buffer_bytes(), 65536u + 10u);
  EXPECT_EQ(framer.max_frame_bytes(), 65536u);
  EXPECT_EQ(framer.framing_mode(), mode::syslog);
  // The largest allowed counted frame with a 5-digit count fits exactly.
  const std::string stream = oc(std::string(65536, 'a'));
  EXPECT_LE(stream.size(), framer.buffer_bytes());
  const auto r = framer.next(stream);
  ASSERT_EQ(r.what, kind::frame);
  EXPECT_EQ(r.frame.size(), 65536u);
  EXPECT_EQ(r.consumed, stream.size());
}

TEST(stream_framer, reset_forgets_discard) {
  stream_framer framer(mode::syslog, 4);
  auto r = framer.next("100 abc");
  ASSERT_EQ(r.what, kind::error);
  EXPECT_EQ(std::string(r.error_code), "message_too_large");
  framer.reset();
  r = framer.next("ok\n");
  ASSERT_EQ(r.what, kind::frame);
  EXPECT_EQ(r.frame, "ok");
}

TEST(stream_framer, finish_resets_for_reuse) {
  stream_framer framer(mode::syslog, 4);
  auto r = framer.finish("100 abc");  // oversize: error now, the rest would be discarded
  ASSERT_EQ(r.what, kind::error);
  r = framer.finish("");
  EXPECT_EQ(r.what, kind::need_more);
  r = framer.next("ok\n");
  ASSERT_EQ(r.what, kind::frame);
  EXPECT_EQ(r.frame, "ok");
}

}  // namespace
}  // namespace tocsin::collector
