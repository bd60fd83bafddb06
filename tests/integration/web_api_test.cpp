// The web UI's side of the admin listener, against a real `tocsin run` fed by util-linux
// `logger`: a login's cookie opens the API (and nothing opens it without), and the live tail
// streams the matching lines as server-sent events until the client goes.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <string>

#include "tests/integration/tocsin_daemon.hpp"

namespace tocsin::test {
namespace {

// A raw client for one streaming request: what arrives until `until` shows up or time is up.
class stream_client {
 public:
  explicit stream_client(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~stream_client() { close(); }
  stream_client(const stream_client&) = delete;
  stream_client& operator=(const stream_client&) = delete;

  bool send(const std::string& text) {
    return connected_ &&
           ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
  }
  // Reads until `until` is in what was read (all of it so far), or `timeout`.
  const std::string& read_until(std::string_view until, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (received_.find(until) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buffer[4096];
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      received_.append(buffer, static_cast<std::size_t>(n));
    }
    return received_;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
  bool connected_ = false;
  std::string received_;
};

class web_api : public ::testing::Test {
 protected:
  web_api() : daemon_(options()) {}

  static daemon_options options() {
    daemon_options o;
    o.extra_admin = ", token_file: admin.token";
    o.files["admin.token"] = "ui-secret\n";
    o.files["rules.yaml"] =
        "rules:\n"
        "  - { name: disk-full, match: { message: 'No space left on (?P<device>\\S+)' },\n"
        "      group_by: [app] }\n";
    o.extra_config =
        "rules_files: [rules.yaml]\n"
        "route: { receiver: audit, group_by: [alertname], group_wait: 0s }\n"
        "receivers:\n"
        "  - { name: audit, file: { path: alerts.jsonl } }\n";
    return o;
  }

  json get_json(const std::string& path, const std::string& cookie) {
    const auto r = request("GET", path, {}, {{"Cookie", cookie}});
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }

  static std::string query_escaped(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : text) {
      if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.') {
        out += static_cast<char>(c);
      } else {
        out += '%';
        out += hex[c >> 4];
        out += hex[c & 15];
      }
    }
    return out;
  }

  http_response request(std::string_view method, std::string_view path, std::string_view body = {},
                        const std::map<std::string, std::string>& headers = {}) {
    return http_request(method, "127.0.0.1", daemon_.admin_port(), path, body,
                        "application/x-www-form-urlencoded", 10s, headers);
  }

  // "tocsin_session=..." from a login with the admin token.
  std::string login() {
    const auto r = request("POST", "/login", "token=ui-secret");
    EXPECT_EQ(r.status, 303);
    const auto it = r.headers.find("set-cookie");
    return it == r.headers.end() ? "" : it->second.substr(0, it->second.find(';'));
  }

  double subscribers(const std::string& cookie) {
    for (const auto& s : parse_metrics(request("GET", "/metrics", {}, {{"Cookie", cookie}}).body)) {
      if (s.name == "tocsin_tail_subscribers") return s.value;
    }
    return -1;
  }

  tocsin_daemon daemon_;
};

TEST_F(web_api, nothing_but_the_ui_shell_answers_without_a_login) {
  for (const char* path : {"/api/v2/alerts", "/api/v2/alerts/groups", "/api/v2/silences",
                           "/api/v1/rules", "/api/v1/tail", "/api/v1/search", "/api/v1/oncall/now",
                           "/api/v1/oncall/schedule", "/metrics"}) {
    EXPECT_EQ(request("GET", path).status, 401) << path;
  }
  EXPECT_EQ(request("POST", "/api/v2/silences", "{}").status, 401);
  const std::string cookie = login();
  ASSERT_FALSE(cookie.empty());
  for (const char* path :
       {"/api/v2/alerts/groups", "/api/v1/rules", "/api/v1/search", "/api/v1/oncall/schedule"}) {
    EXPECT_EQ(request("GET", path, {}, {{"Cookie", cookie}}).status, 200) << path;
  }
  EXPECT_EQ(request("GET", "/api/v1/rules", {}, {{"Cookie", "tocsin_session=forged"}}).status, 401);
}

TEST_F(web_api, a_rule_counts_its_matches_and_its_alert_leads_to_the_lines_that_fired_it) {
  const std::string cookie = login();
  ASSERT_FALSE(cookie.empty());
  const std::string port = std::to_string(daemon_.syslog_port());
  for (const char* app : {"postgres", "mysqld"}) {
    ASSERT_EQ(run_command({"logger", "-n", "127.0.0.1", "-P", port, "-T", "-t", app,
                           "write failed: No space left on /dev/sdb1"})
                  .exit_code,
              0);
  }

  json rules;
  ASSERT_TRUE(wait_until(
      [&] {
        rules = get_json("/api/v1/rules", cookie);
        return rules["rules"].size() == 1 && rules["rules"][0]["matches"] == 2;
      },
      patience))
      << rules.dump();
  const json& rule = rules["rules"][0];
  EXPECT_EQ(rule["name"], "disk-full");
  EXPECT_EQ(rule["kind"], "plain");
  EXPECT_EQ(rule["groups"], 2);
  ASSERT_EQ(rule["per_minute"].size(), 60U);
  EXPECT_GE(rule["per_minute"][59].get<int>() + rule["per_minute"][58].get<int>(), 2);

  // The postgres alert's own filter finds postgres' line in the archive, and not mysqld's.
  json groups;
  ASSERT_TRUE(wait_until(
      [&] {
        groups = get_json("/api/v2/alerts/groups", cookie);
        return groups.size() == 1 && groups[0]["alerts"].size() == 2;
      },
      patience))
      << groups.dump();
  std::string filter;
  for (const json& a : groups[0]["alerts"]) {
    if (a["labels"]["app"] == "postgres") filter = a["search"];
  }
  ASSERT_FALSE(filter.empty()) << groups.dump();
  EXPECT_NE(filter.find(R"(app="postgres")"), std::string::npos) << filter;
  json found;
  ASSERT_TRUE(wait_until(
      [&] {
        found = get_json("/api/v1/search?since=1h&filter=" + query_escaped(filter), cookie);
        return found["lines"].size() >= 1;
      },
      patience))
      << found.dump();
  ASSERT_EQ(found["lines"].size(), 1U) << found.dump();
  EXPECT_EQ(found["lines"][0]["app"], "postgres");
  EXPECT_EQ(found["lines"][0]["message"], "write failed: No space left on /dev/sdb1");
}

TEST_F(web_api, the_live_tail_streams_matching_lines_until_the_client_goes) {
  const std::string cookie = login();
  ASSERT_FALSE(cookie.empty());
  stream_client tail(daemon_.admin_port());
  ASSERT_TRUE(
      tail.send("GET /api/v1/tail?filter=app%3D%22web-it%22 HTTP/1.1\r\nHost: x\r\n"
                "Cookie: " +
                cookie + "\r\n\r\n"));
  const std::string& head = tail.read_until("event: started", patience);
  ASSERT_NE(head.find("HTTP/1.1 200"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Type: text/event-stream"), std::string::npos) << head;
  EXPECT_EQ(subscribers(cookie), 1);

  const std::string port = std::to_string(daemon_.syslog_port());
  ASSERT_EQ(run_command({"logger", "-n", "127.0.0.1", "-P", port, "-T", "-t", "cron-it"},
                        "not for this tail\n")
                .exit_code,
            0);
  ASSERT_EQ(run_command({"logger", "-n", "127.0.0.1", "-P", port, "-T", "-t", "web-it"},
                        "GET /index.html 200 <script>\n")
                .exit_code,
            0);
  const std::string& got = tail.read_until("GET /index.html", patience);
  ASSERT_NE(got.find("event: line\ndata: {"), std::string::npos) << got;
  EXPECT_NE(got.find(R"("message":"GET /index.html 200 <script>")"), std::string::npos) << got;
  EXPECT_EQ(got.find("not for this tail"), std::string::npos) << got;

  tail.close();  // the tab closes: the subscription goes with it
  EXPECT_TRUE(wait_until([&] { return subscribers(cookie) == 0; }, patience));

  const auto bad =
      request("GET", "/api/v1/tail?filter=message%3D~%22(%22", {}, {{"Cookie", cookie}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("filter"), std::string::npos) << bad.body;
}

}  // namespace
}  // namespace tocsin::test
