// Tests for collector/gelf_chunk_assembler.hpp. Time is a fake steady_clock value: no sleeping.

#include "collector/gelf_chunk_assembler.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "collector/gelf.hpp"

namespace tocsin::collector {
namespace {

using namespace std::chrono_literals;
using clock_type = gelf_chunk_assembler::clock;

const clock_type::time_point t0{std::chrono::hours(1000)};

// One chunk: magic, 8-byte id, seq, count, data.
std::string chunk(std::uint64_t id, unsigned seq, unsigned count, std::string_view data) {
  std::string d("\x1e\x0f", 2);
  for (int i = 0; i < 8; ++i) d += static_cast<char>((id >> (8 * i)) & 0xff);
  d += static_cast<char>(seq);
  d += static_cast<char>(count);
  d.append(data);
  return d;
}

// Splits `payload` the way GELF senders do: chunks of at most `chunk_size` bytes in total.
std::vector<std::string> split(std::uint64_t id, std::string_view payload,
                               std::size_t chunk_size = 8192) {
  const std::size_t data_size = chunk_size - gelf_chunk_assembler::header_bytes;
  const std::size_t count = (payload.size() + data_size - 1) / data_size;
  std::vector<std::string> out;
  for (std::size_t i = 0; i < count; ++i) {
    out.push_back(chunk(id, static_cast<unsigned>(i), static_cast<unsigned>(count),
                        payload.substr(i * data_size, data_size)));
  }
  return out;
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// --- table: a sequence of datagrams and what each one must do ----------------------------

struct step {
  std::string datagram;
  chunk_result::state_t state;
  const char* error = nullptr;  // expected code when rejected
  std::string payload = {};     // expected payload when complete
};

struct sequence_case {
  std::string name;
  std::vector<step> steps;
  std::size_t pending_after = 0;
};

std::vector<sequence_case> sequence_cases() {
  const auto P = chunk_result::pending;
  const auto C = chunk_result::complete;
  const auto R = chunk_result::rejected;
  const std::string abc = "{\"a\":1}";
  return {
      {"not_chunked_passes_through", {{"{\"host\":\"h\"}", C, nullptr, "{\"host\":\"h\"}"}}},
      {"zlib_passes_through", {{"\x78\x9c\x01\x02", C, nullptr, "\x78\x9c\x01\x02"}}},
      {"single_chunk", {{chunk(1, 0, 1, abc), C, nullptr, abc}}},
      {"in_order",
       {{chunk(1, 0, 3, "aa"), P},
        {chunk(1, 1, 3, "bb"), P},
        {chunk(1, 2, 3, "cc"), C, nullptr, "aabbcc"}}},
      {"reverse_order",
       {{chunk(1, 2, 3, "cc"), P},
        {chunk(1, 1, 3, "bb"), P},
        {chunk(1, 0, 3, "aa"), C, nullptr, "aabbcc"}}},
      {"duplicates_ignored",
       {{chunk(1, 1, 3, "bb"), P},
        {chunk(1, 1, 3, "XX"), P},  // duplicate with other data: the first copy wins
        {chunk(1, 0, 3, "aa"), P},
        {chunk(1, 0, 3, "aa"), P},
        {chunk(1, 2, 3, "cc"), C, nullptr, "aabbcc"}}},
      {"interleaved_ids",
       {{chunk(1, 0, 2, "1a"), P},
        {chunk(2, 1, 2, "2b"), P},
        {chunk(2, 0, 2, "2a"), C, nullptr, "2a2b"},
        {chunk(1, 1, 2, "1b"), C, nullptr, "1a1b"}}},
      {"empty_chunks", {{chunk(1, 0, 2, ""), P}, {chunk(1, 1, 2, "x"), C, nullptr, "x"}}},
      {"late_duplicate_starts_new_message",
       {{chunk(1, 0, 2, "a"), P},
        {chunk(1, 1, 2, "b"), C, nullptr, "ab"},
        {chunk(1, 1, 2, "b"), P}},
       1},
      {"count_0", {{chunk(1, 0, 0, "x"), R, "bad_chunk_count"}}},
      {"count_129", {{chunk(1, 0, 129, "x"), R, "bad_chunk_count"}}},
      {"count_255", {{chunk(1, 0, 255, "x"), R, "bad_chunk_count"}}},
      {"seq_equals_count", {{chunk(1, 3, 3, "x"), R, "bad_chunk_seq"}}},
      {"seq_above_count", {{chunk(1, 200, 3, "x"), R, "bad_chunk_seq"}}},
      {"seq_127_of_128", {{chunk(1, 127, 128, "x"), P}}, 1},
      {"header_too_short",
       {{std::string("\x1e\x0f"
                     "123456789",
                     11),
         R, "bad_chunk_header"}}},
      {"magic_only", {{std::string("\x1e\x0f", 2), R, "bad_chunk_header"}}},
      {"bad_chunk_does_not_disturb_message",
       {{chunk(1, 0, 2, "a"), P},
        {chunk(1, 5, 2, "zz"), R, "bad_chunk_seq"},
        {chunk(1, 1, 2, "b"), C, nullptr, "ab"}}},
      {"count_mismatch",
       {{chunk(1, 0, 3, "a"), P},
        {chunk(1, 1, 4, "b"), R, "chunk_count_mismatch"},
        {chunk(1, 2, 3, "c"), P},  // swallowed: the message is already rejected
        {chunk(1, 1, 3, "b"), P}},
       1},
      {"single_chunk_id_collides_with_pending",
       {{chunk(1, 0, 2, "a"), P}, {chunk(1, 0, 1, "x"), R, "chunk_count_mismatch"}},
       1},
  };
}

class gelf_chunk_sequence_test : public ::testing::TestWithParam<sequence_case> {};

TEST_P(gelf_chunk_sequence_test, runs) {
  const sequence_case& c = GetParam();
  gelf_chunk_assembler a;
  auto now = t0;
  for (std::size_t i = 0; i < c.steps.size(); ++i) {
    const step& s = c.steps[i];
    const chunk_result r = a.add(s.datagram, now);
    now += 10ms;
    ASSERT_EQ(r.state, s.state) << "step " << i;
    EXPECT_EQ(r.timed_out, 0u);
    EXPECT_EQ(r.evicted, 0u);
    if (s.state == chunk_result::rejected) {
      EXPECT_STREQ(r.error.code, s.error) << "step " << i;
    } else {
      EXPECT_TRUE(r.error.is_ok()) << "step " << i;
    }
    if (s.state == chunk_result::complete) EXPECT_EQ(r.payload, s.payload) << "step " << i;
  }
  EXPECT_EQ(a.pending_messages(), c.pending_after);
}

INSTANTIATE_TEST_SUITE_P(table, gelf_chunk_sequence_test, ::testing::ValuesIn(sequence_cases()),
                         [](const auto& info) { return info.param.name; });

// --- larger scenarios ---------------------------------------------------------------------

TEST(gelf_chunk_assembler, all_128_chunks_shuffled) {
  const std::string payload = random_bytes(128 * 100, 1);
  auto chunks = split(42, payload, 100 + gelf_chunk_assembler::header_bytes);
  ASSERT_EQ(chunks.size(), 128u);
  std::shuffle(chunks.begin(), chunks.end(), std::mt19937(3));
  gelf_chunk_assembler a;
  for (std::size_t i = 0; i + 1 < chunks.size(); ++i) {
    ASSERT_EQ(a.add(chunks[i], t0).state, chunk_result::pending);
  }
  const chunk_result r = a.add(chunks.back(), t0);
  ASSERT_EQ(r.state, chunk_result::complete);
  EXPECT_EQ(r.payload, payload);
  EXPECT_EQ(a.pending_messages(), 0u);
  EXPECT_EQ(a.pending_bytes(), 0u);
}

TEST(gelf_chunk_assembler, incompressible_20k_in_8k_chunks) {
  const std::string payload = random_bytes(20 * 1024, 2);
  const auto chunks = split(0x0123456789abcdefULL, payload);
  ASSERT_EQ(chunks.size(), 3u);
  for (const auto& c : chunks) EXPECT_LE(c.size(), 8192u);
  gelf_chunk_assembler a({.max_message_bytes = 65536});
  EXPECT_EQ(a.add(chunks[1], t0).state, chunk_result::pending);
  EXPECT_EQ(a.add(chunks[2], t0).state, chunk_result::pending);
  EXPECT_EQ(a.pending_bytes(), payload.size() - 8180);
  const chunk_result r = a.add(chunks[0], t0 + 4s);
  ASSERT_EQ(r.state, chunk_result::complete);
  EXPECT_EQ(r.payload, payload);
}

// What the issue's graypy test sends: zlib JSON carrying a 20 KB incompressible field.
TEST(gelf_chunk_assembler, chunked_zlib_gelf_end_to_end) {
  std::mt19937 rng(9);
  std::string blob;
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 20 * 1024; ++i) blob += alphabet[rng() % 64];
  const std::string text =
      R"({"version":"1.1","host":"app1","short_message":"big one","_blob":")" + blob + "\"}";
  uLongf size = compressBound(static_cast<uLong>(text.size()));
  std::string z(size, '\0');
  ASSERT_EQ(
      compress2(reinterpret_cast<Bytef*>(z.data()), &size,
                reinterpret_cast<const Bytef*>(text.data()), static_cast<uLong>(text.size()), 9),
      Z_OK);
  z.resize(size);
  auto chunks = split(77, z);
  ASSERT_GE(chunks.size(), 2u);
  std::reverse(chunks.begin(), chunks.end());

  gelf_chunk_assembler a({.max_message_bytes = 65536});
  chunk_result r;
  for (const auto& c : chunks) r = a.add(c, t0);
  ASSERT_EQ(r.state, chunk_result::complete);
  std::string scratch;
  event ev;
  const decode_status st = decode_gelf_payload(r.payload, 65536, scratch, ev);
  ASSERT_TRUE(st.is_ok()) << st.code;
  EXPECT_EQ(ev.host, "app1");
  EXPECT_EQ(ev.message, "big one");
  EXPECT_EQ(ev.fields["blob"], blob);
}

TEST(gelf_chunk_assembler, never_completed_message_expires) {
  gelf_chunk_assembler a;
  EXPECT_EQ(a.add(chunk(1, 0, 2, "half"), t0).state, chunk_result::pending);
  EXPECT_EQ(a.add(chunk(2, 0, 2, "other"), t0 + 2s).state, chunk_result::pending);
  EXPECT_EQ(a.pending_messages(), 2u);
  EXPECT_EQ(a.expire(t0 + 5s), 0u);  // exactly 5 s is still in time
  EXPECT_EQ(a.expire(t0 + 5s + 1ms), 1u);
  EXPECT_EQ(a.pending_messages(), 1u);
  EXPECT_EQ(a.pending_bytes(), 5u);
  // The missing half arrives too late: it starts a new message that cannot complete.
  const chunk_result late = a.add(chunk(1, 1, 2, "late"), t0 + 6s);
  EXPECT_EQ(late.state, chunk_result::pending);
  EXPECT_EQ(late.timed_out, 0u);
  EXPECT_EQ(a.expire(t0 + 7s + 1ms), 1u);  // id 2
  EXPECT_EQ(a.expire(t0 + 20s), 1u);       // the late one
  EXPECT_EQ(a.pending_messages(), 0u);
  EXPECT_EQ(a.pending_bytes(), 0u);
}

TEST(gelf_chunk_assembler, timeouts_counted_on_next_datagram) {
  gelf_chunk_assembler a;
  a.add(chunk(1, 0, 2, "a"), t0);
  a.add(chunk(2, 0, 2, "a"), t0 + 1s);
  const chunk_result r = a.add(chunk(1, 1, 2, "b"), t0 + 6s + 500ms);
  EXPECT_EQ(r.timed_out, 2u);
  EXPECT_EQ(r.state, chunk_result::pending);  // id 1's first half is gone
  EXPECT_EQ(a.pending_messages(), 1u);
}

TEST(gelf_chunk_assembler, rejected_message_expires_uncounted) {
  gelf_chunk_assembler a({.max_message_bytes = 100});
  EXPECT_EQ(a.add(chunk(1, 0, 3, std::string(60, 'x')), t0).state, chunk_result::pending);
  const chunk_result r = a.add(chunk(1, 1, 3, std::string(60, 'y')), t0);
  EXPECT_EQ(r.state, chunk_result::rejected);
  EXPECT_STREQ(r.error.code, "message_too_large");
  EXPECT_EQ(a.pending_bytes(), 0u);
  EXPECT_EQ(a.add(chunk(1, 2, 3, "z"), t0).state, chunk_result::pending);  // swallowed
  EXPECT_EQ(a.pending_bytes(), 0u);
  EXPECT_EQ(a.expire(t0 + 1min), 0u);  // already counted as message_too_large
  EXPECT_EQ(a.pending_messages(), 0u);
}

TEST(gelf_chunk_assembler, single_chunk_larger_than_limit) {
  gelf_chunk_assembler a({.max_message_bytes = 10});
  EXPECT_STREQ(a.add(chunk(1, 0, 2, std::string(11, 'x')), t0).error.code, "message_too_large");
  EXPECT_STREQ(a.add(chunk(1, 0, 1, std::string(11, 'x')), t0).error.code, "message_too_large");
  EXPECT_EQ(a.add(chunk(1, 0, 1, std::string(10, 'x')), t0).state, chunk_result::complete);
}

TEST(gelf_chunk_assembler, evicts_oldest_at_pending_cap) {
  gelf_chunk_assembler a({.max_pending_messages = 3});
  for (std::uint64_t id = 1; id <= 3; ++id) {
    const chunk_result r = a.add(chunk(id, 0, 2, "a"), t0);
    EXPECT_EQ(r.evicted, 0u);
  }
  const chunk_result r = a.add(chunk(4, 0, 2, "a"), t0);
  EXPECT_EQ(r.state, chunk_result::pending);
  EXPECT_EQ(r.evicted, 1u);
  EXPECT_EQ(a.pending_messages(), 3u);
  // id 1 was the oldest: its second half no longer completes anything (and evicts id 2).
  const chunk_result r1 = a.add(chunk(1, 1, 2, "b"), t0);
  EXPECT_EQ(r1.state, chunk_result::pending);
  EXPECT_EQ(r1.evicted, 1u);
  // ids 3 and 4 are still there.
  EXPECT_EQ(a.add(chunk(3, 1, 2, "b"), t0).state, chunk_result::complete);
  EXPECT_EQ(a.add(chunk(4, 1, 2, "b"), t0).state, chunk_result::complete);
}

TEST(gelf_chunk_assembler, flood_of_never_completed_ids_stays_bounded) {
  gelf_chunk_assembler a({.max_pending_messages = 1000, .max_pending_bytes = 1 << 20});
  std::size_t evicted = 0;
  const std::string data(1000, 'f');
  auto now = t0;
  for (std::uint64_t id = 0; id < 20000; ++id) {
    const chunk_result r = a.add(chunk(id * 0x9E3779B97F4A7C15ULL, 0, 128, data), now);
    evicted += r.evicted;
    ASSERT_LE(a.pending_messages(), 1000u);
    ASSERT_LE(a.pending_bytes(), 1u << 20);
    now += 10us;
  }
  EXPECT_EQ(evicted, 20000u - a.pending_messages());
  // Good traffic still flows through the flood.
  const auto good = split(5, "good message", 16);
  chunk_result r;
  for (const auto& c : good) r = a.add(c, now);
  ASSERT_EQ(r.state, chunk_result::complete);
  EXPECT_EQ(r.payload, "good message");
}

TEST(gelf_chunk_assembler, byte_budget_evicts_other_messages) {
  gelf_chunk_assembler a({.max_message_bytes = 100, .max_pending_bytes = 150});
  a.add(chunk(1, 0, 2, std::string(80, 'a')), t0);
  const chunk_result r = a.add(chunk(2, 0, 2, std::string(80, 'b')), t0);
  EXPECT_EQ(r.evicted, 1u);
  EXPECT_EQ(a.pending_bytes(), 80u);
  const chunk_result done = a.add(chunk(2, 1, 2, std::string(20, 'c')), t0);
  ASSERT_EQ(done.state, chunk_result::complete);
  EXPECT_EQ(done.payload, std::string(80, 'b') + std::string(20, 'c'));
}

source_key key(const char* address) {
  return source_key_of(boost::asio::ip::make_address(address));
}

// Issue 11: 1 200 spoofed first chunks from one source evicted a legitimate two-chunk message
// from another source (the global cap of 1 000 incomplete messages evicted the oldest).
TEST(gelf_chunk_assembler, one_sources_flood_of_first_chunks_does_not_evict_anothers_message) {
  gelf_chunk_assembler a;  // the defaults, as the GELF UDP input uses them
  const auto legit = key("192.0.2.10"), attacker = key("198.51.100.66");
  const auto halves = split(42, "legitimate two-chunk message", 30);
  ASSERT_EQ(halves.size(), 2u);
  ASSERT_EQ(a.add(halves[0], t0, legit).state, chunk_result::pending);
  std::size_t evicted = 0;
  auto now = t0;
  for (std::uint64_t i = 0; i < 1200; ++i) {
    now += 1ms;
    const chunk_result r = a.add(chunk(0xbad0000 + i, 0, 2, "junk"), now, attacker);
    ASSERT_NE(r.state, chunk_result::complete);
    evicted += r.evicted;
  }
  EXPECT_EQ(evicted, 201u) << "the attacker's own oldest messages make room";
  EXPECT_LE(a.pending_messages(), 1000u);
  const chunk_result done = a.add(halves[1], now, legit);
  ASSERT_EQ(done.state, chunk_result::complete);
  EXPECT_EQ(done.payload, "legitimate two-chunk message");
  EXPECT_EQ(done.evicted, 0u);
}

TEST(gelf_chunk_assembler, a_source_over_its_budget_is_refused_and_others_are_not) {
  gelf_chunk_assembler a({.max_message_bytes = 1000, .max_pending_bytes_per_source = 1});
  // The budget is raised to one largest message; find where it is by filling it.
  const auto greedy = key("203.0.113.5"), other = key("203.0.113.6");
  std::size_t refused = 0, accepted = 0;
  for (std::uint64_t id = 1; id <= 200; ++id) {
    const chunk_result r = a.add(chunk(id, 0, 2, std::string(500, 'x')), t0, greedy);
    if (r.state == chunk_result::rejected) {
      EXPECT_STREQ(r.error.code, "chunk_source_budget");
      ++refused;
    } else {
      ++accepted;
    }
  }
  EXPECT_GT(refused, 150u);
  EXPECT_GE(accepted, 2u);
  EXPECT_LE(a.pending_bytes_of(greedy), 1000 + 128 * 8 + 1024u);
  // Another source is not affected, and the greedy one's accepted messages still complete.
  const auto parts = split(7, "from another host", 20);
  chunk_result r;
  for (const auto& c : parts) r = a.add(c, t0, other);
  ASSERT_EQ(r.state, chunk_result::complete);
  EXPECT_EQ(a.add(chunk(1, 1, 2, "y"), t0, greedy).state, chunk_result::complete);
}

TEST(gelf_chunk_assembler, ids_are_per_source) {
  gelf_chunk_assembler a;
  const auto x = key("192.0.2.1"), y = key("192.0.2.2");
  ASSERT_EQ(a.add(chunk(9, 0, 2, "x0"), t0, x).state, chunk_result::pending);
  // Another sender using the same id neither completes nor kills x's message.
  EXPECT_EQ(a.add(chunk(9, 1, 3, "y1"), t0, y).state, chunk_result::pending);
  const chunk_result r = a.add(chunk(9, 1, 2, "x1"), t0, x);
  ASSERT_EQ(r.state, chunk_result::complete);
  EXPECT_EQ(r.payload, "x0x1");
  // The same sender's chunks may come from several ports (only the address is the source).
  EXPECT_EQ(a.pending_sources(), 1u);
}

TEST(gelf_chunk_assembler, the_byte_cap_evicts_from_the_heaviest_source) {
  gelf_chunk_assembler a({.max_message_bytes = 100, .max_pending_bytes = 300});
  const auto small = key("192.0.2.1"), big = key("192.0.2.2");
  ASSERT_EQ(a.add(chunk(1, 0, 2, std::string(50, 's')), t0, small).state, chunk_result::pending);
  for (std::uint64_t id = 10; id < 13; ++id) {
    a.add(chunk(id, 0, 2, std::string(80, 'b')), t0 + 1ms, big);
  }
  EXPECT_LE(a.pending_bytes(), 300u);
  const chunk_result r = a.add(chunk(1, 1, 2, std::string(50, 't')), t0 + 2ms, small);
  ASSERT_EQ(r.state, chunk_result::complete) << "the lighter source's message was evicted";
}

TEST(gelf_chunk_assembler, bookkeeping_is_given_back) {
  gelf_chunk_assembler a;
  const auto x = key("2001:db8:1:2::1");
  a.add(chunk(1, 0, 2, "a"), t0, x);
  // Another address of the same /64 is the same source.
  a.add(chunk(2, 0, 2, "b"), t0, key("2001:db8:1:2::99"));
  EXPECT_EQ(a.pending_sources(), 1u);
  EXPECT_GT(a.pending_bytes_of(x), 0u);
  a.add(chunk(1, 1, 2, "c"), t0, x);
  a.expire(t0 + 10s);
  EXPECT_EQ(a.pending_sources(), 0u);
  EXPECT_EQ(a.pending_bytes_of(x), 0u);
  EXPECT_EQ(a.pending_messages(), 0u);
}

TEST(gelf_chunk_assembler, the_message_cap_evicts_from_the_source_with_most_messages) {
  // The legitimate source holds one large message (more bytes than all the junk together):
  // at the message cap the victim is the sender with the most messages, not the most bytes.
  gelf_chunk_assembler a({.max_pending_messages = 100});
  const auto legit = key("192.0.2.10"), attacker = key("198.51.100.66");
  const std::string big = random_bytes(60000, 1);
  const auto parts = split(1, big, 8192);
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    ASSERT_EQ(a.add(parts[i], t0, legit).state, chunk_result::pending);
  }
  for (std::uint64_t id = 100; id < 400; ++id) a.add(chunk(id, 0, 2, "j"), t0 + 1ms, attacker);
  const chunk_result r = a.add(parts.back(), t0 + 2ms, legit);
  ASSERT_EQ(r.state, chunk_result::complete);
  EXPECT_EQ(r.payload, big);
}

TEST(gelf_chunk_assembler, is_chunk) {
  EXPECT_TRUE(gelf_chunk_assembler::is_chunk(std::string("\x1e\x0f", 2)));
  EXPECT_FALSE(gelf_chunk_assembler::is_chunk(std::string("\x1e", 1)));
  EXPECT_FALSE(gelf_chunk_assembler::is_chunk("{}"));
  EXPECT_FALSE(gelf_chunk_assembler::is_chunk(std::string("\x1f\x8b", 2)));
}

}  // namespace
}  // namespace tocsin::collector
