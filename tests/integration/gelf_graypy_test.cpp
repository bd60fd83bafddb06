// graypy (Debian's python3-graypy, run by /usr/bin/python3) → tocsin GELF inputs: UDP chunked
// and zlib-compressed with a 20 KB incompressible field, UDP plain, and TCP NUL-delimited;
// asserts on what tocsin archived against what the sender script reports it sent.

#include "tests/integration/tocsin_daemon.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace tocsin::test {
namespace {

struct graypy_record {
  std::string level;  // python logging level name, as the script takes it
  std::string message;
  std::string severity;  // what tocsin must archive
};

struct graypy_case {
  std::string name;
  std::string transport;             // udp | tcp
  std::vector<std::string> options;  // extra script options (chunk size, compression)
  std::vector<graypy_record> records;
  std::vector<std::pair<std::string, std::string>> extra;  // --extra NAME=VALUE
  std::vector<std::pair<std::string, int>> random_extra;   // --random-extra NAME:BYTES
  std::string app;                                         // expected app: from _app, else _tag
  bool expect_chunked;
};

void PrintTo(const graypy_case& c, std::ostream* os) { *os << c.name; }

const std::vector<graypy_case> graypy_cases = {
    // 15000 random bytes → 20000 base64 characters that zlib cannot shrink below ~15 KB, so
    // with 1000-byte chunks the message travels as ~16 chunks.
    {"udp_zlib_chunked_20k_field",
     "udp",
     {"--chunk-size", "1000"},
     {{"warning", "payment declined for order A-1001", "warning"}},
     {{"app", "payments"}, {"order_id", "A-1001"}},
     {{"blob", 15000}},
     "payments",
     true},
    {"udp_zlib_chunked_several_messages",
     "udp",
     {"--chunk-size", "512"},
     {{"info", "batch one", "info"},
      {"error", "batch two", "err"},
      {"critical", "batch three", "crit"},
      {"debug", "batch four", "debug"}},
     {{"app", "batcher"}},
     {{"payload", 6000}},
     "batcher",
     true},
    {"udp_zlib_single_datagram",
     "udp",
     {},
     {{"info", "small compressed message", "info"}},
     {{"app", "small"}, {"user", "alice"}},
     {},
     "small",
     false},
    {"udp_uncompressed",
     "udp",
     {"--no-compress"},
     {{"error", "plain json datagram", "err"}},
     {{"tag", "plain-tag"}},
     {},
     "plain-tag",
     false},
    {"tcp_nul_delimited_levels",
     "tcp",
     {},
     {{"debug", "tcp debug", "debug"},
      {"info", "tcp info", "info"},
      {"warning", "tcp warning", "warning"},
      {"error", "tcp error", "err"},
      {"critical", "tcp critical", "crit"}},
     {{"tag", "billing-worker"}, {"tenant", "acme"}},
     {},
     "billing-worker",
     false},
    {"tcp_20k_field",
     "tcp",
     {},
     {{"warning", "tcp big field", "warning"}},
     {{"app", "bigtcp"}},
     {{"blob", 15000}},
     "bigtcp",
     false},
};

class graypy_to_tocsin : public ::testing::TestWithParam<graypy_case> {};

TEST_P(graypy_to_tocsin, archives_every_record) {
  const graypy_case& c = GetParam();
  tocsin_daemon daemon;
  const std::string localname = "graypy-host.example.com";

  std::vector<std::string> argv = {
      "/usr/bin/python3", peer_script("graypy_send.py").string(), "--transport", c.transport,
      "--port",           std::to_string(daemon.gelf_port()),     "--localname", localname};
  argv.insert(argv.end(), c.options.begin(), c.options.end());
  for (const auto& r : c.records) argv.insert(argv.end(), {"--record", r.level + ":" + r.message});
  for (const auto& [k, v] : c.extra) argv.insert(argv.end(), {"--extra", k + "=" + v});
  for (const auto& [k, n] : c.random_extra) {
    argv.insert(argv.end(), {"--random-extra", k + ":" + std::to_string(n)});
  }
  const auto run = run_command(argv);
  ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
  const json report = json::parse(run.stdout_text);
  const auto& sent = report["records"];
  ASSERT_EQ(sent.size(), c.records.size());
  if (c.transport == "udp") {
    if (c.expect_chunked) {
      EXPECT_GT(report["datagrams"].get<int>(), static_cast<int>(c.records.size()))
          << "the sender did not chunk; the test would not exercise reassembly";
    } else {
      EXPECT_EQ(report["datagrams"].get<int>(), static_cast<int>(c.records.size()));
    }
  }

  const std::string input = c.transport == "udp" ? "gelf-udp" : "gelf-tcp";
  ASSERT_TRUE(wait_until([&] { return daemon.events().size() >= c.records.size(); }, patience))
      << "archived " << daemon.events().size() << " of " << c.records.size() << " records; "
      << input << " errors: " << daemon.input_errors(input);
  const auto events = daemon.events();
  ASSERT_EQ(events.size(), c.records.size());

  for (std::size_t i = 0; i < c.records.size(); ++i) {
    const json& ev = events[i];  // one app → one file, in arrival order
    SCOPED_TRACE(ev.dump().substr(0, 600));
    EXPECT_EQ(text_field(ev, "message"), c.records[i].message);
    EXPECT_EQ(text_field(ev, "severity"), c.records[i].severity);
    EXPECT_EQ(text_field(ev, "host"), localname);
    EXPECT_EQ(text_field(ev, "app"), c.app);
    EXPECT_EQ(text_field(ev, "format"), "gelf");
    EXPECT_EQ(text_field(ev, "input"), input);
    EXPECT_EQ(text_field(ev, "source").rfind("127.0.0.1:", 0), 0u);
    // graypy sends record.created, epoch seconds with a fraction.
    EXPECT_TRUE(std::regex_match(text_field(ev, "timestamp"),
                                 std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)")));
    ASSERT_TRUE(ev.contains("fields") && ev["fields"].is_object());
    const json& fields = ev["fields"];
    for (const auto& [name, value] : sent[i]["extra"].items()) {
      if (name == "app") continue;  // may be moved to `app`, where it is checked
      SCOPED_TRACE(name);
      ASSERT_TRUE(fields.contains(name));
      EXPECT_EQ(fields[name], value) << "size sent " << value.get<std::string>().size();
    }
    // graypy's debugging fields arrive as fields too (its _pid is a number).
    EXPECT_TRUE(fields.contains("pid") && fields["pid"].is_number_integer());
    EXPECT_FALSE(fields.contains("id")) << "_id must be dropped";
  }
  EXPECT_EQ(daemon.input_messages(input), static_cast<double>(c.records.size()));
  EXPECT_EQ(daemon.input_errors(input), 0);
}

INSTANTIATE_TEST_SUITE_P(real_graypy, graypy_to_tocsin, ::testing::ValuesIn(graypy_cases),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace tocsin::test
