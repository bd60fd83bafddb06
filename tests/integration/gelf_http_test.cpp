// GELF over HTTP: graypy's GELFHTTPHandler (Debian's python3-graypy, run by /usr/bin/python3)
// posts records to a `transport: http` input; curl sends what graypy does not (a gzip body, a
// wrong path or method, a body over the limit, invalid GELF, two requests on one connection).
// Asserts on the archived Event JSON, the HTTP status codes and the input's counters.

#include "tests/integration/tocsin_daemon.hpp"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace tocsin::test {
namespace {

constexpr const char* input = "gelf-http";

// A daemon with the standard inputs plus a GELF HTTP input on its own port.
struct http_daemon {
  explicit http_daemon(std::size_t max_message_bytes = 65536)
      : port(free_port()), daemon([&] {
          daemon_options o;
          o.max_message_bytes = max_message_bytes;
          o.extra_inputs =
              "  - { name: gelf-http, type: gelf, transport: http, listen: 127.0.0.1:" +
              std::to_string(port) + " }\n";
          return o;
        }()) {}

  std::string url(const std::string& path = "/gelf") const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }

  std::uint16_t port;
  tocsin_daemon daemon;
};

// curl with the given arguments; stdout is what -w and the bodies printed.
command_result curl(std::vector<std::string> args, std::string_view stdin_text = {}) {
  std::vector<std::string> argv = {"curl", "-sS", "--max-time", "20"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, stdin_text);
}

std::string gelf(const std::string& message, const std::string& app) {
  return R"({"version":"1.1","host":"curl-host","short_message":")" + message +
         R"(","level":3,"_app":")" + app + R"("})";
}

TEST(gelf_http, graypy_records_arrive_compressed_and_plain) {
  http_daemon d;
  const std::string localname = "graypy-http.example.com";
  struct record {
    std::string level, message, severity;
  };
  const std::vector<record> records = {{"debug", "http debug", "debug"},
                                       {"info", "http info", "info"},
                                       {"warning", "http warning", "warning"},
                                       {"error", "http error", "err"},
                                       {"critical", "http critical", "crit"}};
  // graypy opens one connection per record and does not wait for the answer, so records may
  // be decoded on different shards in any order: they are matched by their (unique) message.
  std::map<std::string, std::pair<std::string, json>> sent;  // message → severity, what was sent
  for (const std::string app : {"zipped", "plain"}) {
    std::vector<std::string> argv = {"/usr/bin/python3", peer_script("graypy_send.py").string(),
                                     "--transport",      "http",
                                     "--port",           std::to_string(d.port),
                                     "--localname",      localname,
                                     "--extra",          "app=" + app,
                                     "--extra",          "tenant=acme",
                                     "--random-extra",   "blob:3000"};
    if (app == "plain") argv.push_back("--no-compress");
    for (const auto& r : records) {
      argv.insert(argv.end(), {"--record", r.level + ":" + r.message + " " + app});
    }
    const auto run = run_command(argv);
    ASSERT_EQ(run.exit_code, 0) << run.stderr_text;
    const json report = json::parse(run.stdout_text);
    ASSERT_EQ(report["records"].size(), records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
      const json& s = report["records"][i];
      sent[s["message"].get<std::string>()] = {records[i].severity, s};
    }
  }
  ASSERT_EQ(sent.size(), 2 * records.size());

  ASSERT_TRUE(wait_until([&] { return d.daemon.events().size() >= sent.size(); }, patience))
      << "archived " << d.daemon.events().size() << " of " << sent.size()
      << "; errors: " << d.daemon.input_errors(input);
  const auto events = d.daemon.events();
  ASSERT_EQ(events.size(), sent.size());
  std::set<std::string> seen;
  for (const json& ev : events) {
    SCOPED_TRACE(ev.dump().substr(0, 400));
    const std::string message = text_field(ev, "message");
    const auto it = sent.find(message);
    ASSERT_NE(it, sent.end());
    seen.insert(message);
    const auto& [severity, expected] = it->second;
    EXPECT_EQ(text_field(ev, "severity"), severity);
    EXPECT_EQ(text_field(ev, "app"), expected["extra"]["app"]);
    EXPECT_EQ(text_field(ev, "host"), localname);
    EXPECT_EQ(text_field(ev, "input"), input);
    EXPECT_EQ(text_field(ev, "format"), "gelf");
    EXPECT_EQ(text_field(ev, "source").rfind("127.0.0.1:", 0), 0u);
    EXPECT_TRUE(std::regex_match(text_field(ev, "timestamp"),
                                 std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)")));
    ASSERT_TRUE(ev.contains("fields"));
    EXPECT_EQ(ev["fields"]["tenant"], "acme");
    EXPECT_EQ(ev["fields"]["blob"], expected["extra"]["blob"]);
  }
  EXPECT_EQ(seen.size(), sent.size()) << "a record arrived twice";
  EXPECT_EQ(d.daemon.input_messages(input), static_cast<double>(sent.size()));
  EXPECT_EQ(d.daemon.input_errors(input), 0);
  EXPECT_GT(d.daemon.metric("tocsin_input_bytes_total", {{"input", input}}), 0);
}

TEST(gelf_http, gzip_bodies_with_and_without_the_header) {
  http_daemon d;
  d.daemon.dir().write_file("gz.json", gelf("gzip with header", "gz"));
  d.daemon.dir().write_file("bare.json", gelf("gzip without header", "bare"));
  for (const char* name : {"gz.json", "bare.json"}) {
    const auto r = run_command({"gzip", "-kn", (d.daemon.dir() / name).string()});
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  }
  auto r = curl({"-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Encoding: gzip",
                 "--data-binary", "@" + (d.daemon.dir() / "gz.json.gz").string(), d.url()});
  EXPECT_EQ(r.stdout_text, "202") << r.stderr_text;
  // Like Graylog, the magic bytes are enough.
  r = curl({"-o", "/dev/null", "-w", "%{http_code}", "--data-binary",
            "@" + (d.daemon.dir() / "bare.json.gz").string(), d.url()});
  EXPECT_EQ(r.stdout_text, "202") << r.stderr_text;

  for (const char* message : {"gzip with header", "gzip without header"}) {
    const auto ev = d.daemon.wait_for_event_with("message", message);
    ASSERT_TRUE(ev) << message;
    EXPECT_EQ(text_field(*ev, "host"), "curl-host");
    EXPECT_EQ(text_field(*ev, "severity"), "err");
  }
  EXPECT_EQ(d.daemon.input_messages(input), 2);
}

TEST(gelf_http, two_requests_share_one_keep_alive_connection) {
  http_daemon d;
  const auto r = curl({"--http1.1", "-H", "Content-Type: application/json", "--data-binary",
                       gelf("kept alive", "keepalive"), "-w", "%{http_code} %{num_connects}\n",
                       d.url(), d.url()});
  // num_connects: 1 for the first transfer, 0 for the second (the connection was reused).
  EXPECT_EQ(r.stdout_text, "202 1\n202 0\n") << r.stderr_text;
  ASSERT_TRUE(wait_until([&] { return d.daemon.events().size() == 2; }, patience));
  for (const auto& ev : d.daemon.events()) EXPECT_EQ(text_field(ev, "message"), "kept alive");
  EXPECT_EQ(d.daemon.input_messages(input), 2);
}

TEST(gelf_http, refused_requests_get_their_status_and_are_counted) {
  http_daemon d(2000);
  // 404: another path.
  auto r = curl({"-o", "/dev/null", "-w", "%{http_code}", "--data-binary", gelf("x", "x"),
                 d.url("/gelf/other")});
  EXPECT_EQ(r.stdout_text, "404") << r.stderr_text;
  // 405: another method.
  r = curl({"-o", "/dev/null", "-w", "%{http_code}", d.url()});
  EXPECT_EQ(r.stdout_text, "405") << r.stderr_text;
  // 413: a body over max_message_bytes (curl sends it after "Expect: 100-continue" or not).
  r = curl({"-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "@-", d.url()},
           gelf(std::string(5000, 'x'), "big"));
  EXPECT_EQ(r.stdout_text, "413") << r.stderr_text;
  r = curl(
      {"-o", "/dev/null", "-w", "%{http_code}", "-H", "Expect:", "--data-binary", "@-", d.url()},
      gelf(std::string(5000, 'y'), "big"));
  EXPECT_EQ(r.stdout_text, "413") << r.stderr_text;
  // 400 with the reason: GELF without a host, and a body that is not JSON.
  r = curl({"-w", " %{http_code}", "--data-binary", R"({"short_message":"no host"})", d.url()});
  EXPECT_EQ(r.stdout_text.rfind("missing_host", 0), 0u) << r.stdout_text;
  EXPECT_TRUE(r.stdout_text.ends_with(" 400")) << r.stdout_text;
  r = curl({"-w", " %{http_code}", "--data-binary", "hello", d.url()});
  EXPECT_EQ(r.stdout_text.rfind("bad_json", 0), 0u) << r.stdout_text;
  EXPECT_TRUE(r.stdout_text.ends_with(" 400")) << r.stdout_text;

  EXPECT_TRUE(d.daemon.wait_for_metric("tocsin_input_errors_total", {{"input", input}},
                                       [](double v) { return v >= 6; }));
  EXPECT_EQ(d.daemon.input_errors(input, "not_found"), 1);
  EXPECT_EQ(d.daemon.input_errors(input, "method_not_allowed"), 1);
  EXPECT_EQ(d.daemon.input_errors(input, "message_too_large"), 2);
  EXPECT_EQ(d.daemon.input_errors(input, "missing_host"), 1);
  EXPECT_EQ(d.daemon.input_errors(input, "bad_json"), 1);
  EXPECT_EQ(d.daemon.input_errors(input), 6);
  EXPECT_EQ(d.daemon.input_messages(input), 0);
  EXPECT_TRUE(d.daemon.events().empty());

  // The input still works after all that.
  r = curl(
      {"-o", "/dev/null", "-w", "%{http_code}", "--data-binary", gelf("fine", "fine"), d.url()});
  EXPECT_EQ(r.stdout_text, "202");
  EXPECT_TRUE(d.daemon.wait_for_event_with("message", "fine"));
}

TEST(gelf_http, max_connections_applies) {
  daemon_options o;
  const auto port = free_port();
  o.max_connections = 1;
  o.extra_inputs = "  - { name: gelf-http, type: gelf, transport: http, listen: 127.0.0.1:" +
                   std::to_string(port) + " }\n";
  tocsin_daemon daemon(o);
  tcp_client first(port);
  ASSERT_TRUE(first.is_open());
  ASSERT_TRUE(daemon.wait_for_metric("tocsin_input_connections", {{"input", input}},
                                     [](double v) { return v == 1; }));
  tcp_client second(port);
  EXPECT_TRUE(second.closed_by_peer(patience));
  EXPECT_TRUE(daemon.wait_for_metric("tocsin_input_errors_total",
                                     {{"input", input}, {"reason", "too_many_connections"}},
                                     [](double v) { return v == 1; }));
  first.close();
  EXPECT_TRUE(daemon.wait_for_metric("tocsin_input_connections", {{"input", input}},
                                     [](double v) { return v == 0; }));
}

}  // namespace
}  // namespace tocsin::test
