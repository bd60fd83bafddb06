// A real Prometheus (Debian's `prometheus`) pointed at tocsin both ways: it scrapes tocsin's
// /metrics and sends its alerts to tocsin as its Alertmanager (`alerting: alertmanagers:`), and
// tocsin routes them to a webhook. The alert rule reads a tocsin metric, so the test also proves
// that Prometheus parses tocsin's exposition format.

#include <gtest/gtest.h>

#include "tests/integration/tocsin_daemon.hpp"
#include "tests/support/http_capture.hpp"

namespace tocsin::test {
namespace {

namespace fs = std::filesystem;

// Prometheus takes a few scrape and evaluation rounds (1 s each here) before it sends.
constexpr auto prometheus_patience = 60s;

// `prometheus` on a free loopback port, scraping `scrape_port` every second and evaluating
// `rules_yaml` every second, with alerts sent to the Alertmanager at `alertmanager_port`.
class prometheus_server {
 public:
  prometheus_server(std::uint16_t scrape_port, std::uint16_t alertmanager_port,
                    const std::string& rules_yaml)
      : dir_("prometheus"), port_(free_port()) {
    dir_.write_file("rules.yml", rules_yaml);
    dir_.write_file("prometheus.yml",
                    "global: { scrape_interval: 1s, evaluation_interval: 1s }\n"
                    "rule_files: [rules.yml]\n"
                    "scrape_configs:\n"
                    "  - job_name: tocsin\n"
                    "    static_configs: [ { targets: ['127.0.0.1:" +
                        std::to_string(scrape_port) +
                        "'] } ]\n"
                        "alerting:\n"
                        "  alertmanagers:\n"
                        "    - api_version: v2\n"
                        "      static_configs: [ { targets: ['127.0.0.1:" +
                        std::to_string(alertmanager_port) + "'] } ]\n");
    process_options options;
    options.stdout_path = dir_ / "prometheus.out";
    options.stderr_path = dir_ / "prometheus.err";
    // Prometheus drops the alerts of its first evaluation when the Alertmanager list is not yet
    // discovered and re-sends only after the resend delay (1 min by default): 1 s here.
    process_ = std::make_unique<child_process>(
        std::vector<std::string>{find_program("prometheus").string(),
                                 "--config.file=" + (dir_ / "prometheus.yml").string(),
                                 "--storage.tsdb.path=" + (dir_ / "data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                 "--web.external-url=" + url(), "--rules.alert.resend-delay=1s"},
        options);
    if (!wait_until([&] { return http_get("127.0.0.1", port_, "/-/ready", 1s).status == 200; },
                    30s)) {
      throw std::runtime_error("prometheus did not become ready:\n" + log());
    }
  }

  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // The `data.result` of an instant query, or null.
  [[nodiscard]] json query(const std::string& promql) const {
    std::string encoded;
    for (const unsigned char c : promql) {
      if (std::isalnum(c) != 0 || c == '_') {
        encoded += static_cast<char>(c);
      } else {
        char hex[4];
        std::snprintf(hex, sizeof hex, "%%%02X", c);
        encoded += hex;
      }
    }
    const auto r = http_get("127.0.0.1", port_, "/api/v1/query?query=" + encoded, 5s);
    const json body = json::parse(r.body, nullptr, false);
    if (r.status != 200 || !body.is_object() || !body.contains("data")) return nullptr;
    return body["data"].value("result", json());
  }

  [[nodiscard]] std::string log() const { return read_file_if_present(dir_ / "prometheus.err"); }

 private:
  temp_dir dir_;
  std::uint16_t port_;
  std::unique_ptr<child_process> process_;
};

// The webhook bodies received so far, parsed.
std::vector<json> bodies(const http_capture& hook) {
  std::vector<json> out;
  for (const auto& r : hook.requests()) out.push_back(json::parse(r.body, nullptr, false));
  return out;
}

bool has_notification(const http_capture& hook, const std::string& status) {
  for (const json& b : bodies(hook)) {
    if (b.is_object() && b.value("status", "") == status) return true;
  }
  return false;
}

TEST(prometheus, scrapes_tocsin_and_sends_it_alerts_that_are_routed_and_resolved) {
  if (find_program("prometheus").empty()) GTEST_SKIP() << "prometheus is not installed";
  http_capture hook;
  daemon_options options;
  options.inputs = false;
  options.extra_config =
      "route: { receiver: hook, group_by: [alertname], group_wait: 0s, group_interval: 1s }\n"
      "receivers:\n"
      "  - { name: hook, webhook: { url: \"" +
      hook.url() + "\" } }\n";
  tocsin_daemon daemon(options);

  // Fires while tocsin has no active silence, so the test can resolve it through tocsin's API.
  prometheus_server prometheus(daemon.admin_port(), daemon.admin_port(),
                               "groups:\n"
                               "  - name: tocsin\n"
                               "    rules:\n"
                               "      - alert: TocsinNoSilences\n"
                               "        expr: tocsin_silences{state=\"active\"} == 0\n"
                               "        labels: { severity: info }\n"
                               "        annotations: { summary: 'no active silence' }\n");

  // The scrape works: Prometheus holds tocsin's series with the job's labels.
  ASSERT_TRUE(wait_until(
      [&] {
        const json up = prometheus.query("up{job=\"tocsin\"}");
        return up.is_array() && up.size() == 1 && up[0]["value"][1] == "1";
      },
      prometheus_patience))
      << "tocsin's scrape target is not up: " << prometheus.query("up").dump() << "\n"
      << prometheus.log();

  // The alert arrives through tocsin's /api/v2/alerts and is routed to the webhook.
  ASSERT_TRUE(wait_until([&] { return has_notification(hook, "firing"); }, prometheus_patience))
      << "no firing notification; tocsin's alerts: "
      << http_get("127.0.0.1", daemon.admin_port(), "/api/v2/alerts").body << "\n"
      << prometheus.log();
  json firing;
  for (const json& b : bodies(hook)) {
    if (b.value("status", "") == "firing") firing = b;
  }
  ASSERT_EQ(firing["alerts"].size(), 1U) << firing.dump();
  const json& alert = firing["alerts"][0];
  EXPECT_EQ(alert["labels"]["alertname"], "TocsinNoSilences");
  EXPECT_EQ(alert["labels"]["severity"], "info");
  EXPECT_EQ(alert["labels"]["job"], "tocsin");
  EXPECT_EQ(alert["annotations"]["summary"], "no active silence");
  EXPECT_TRUE(alert["generatorURL"].get<std::string>().starts_with(prometheus.url() + "/graph"))
      << alert.dump();
  EXPECT_EQ(firing["groupLabels"], json({{"alertname", "TocsinNoSilences"}}));

  // Prometheus re-sends the firing alert every second; tocsin notifies once. Wait for three
  // more of its POSTs to /api/v2/alerts.
  const label_set alerts_posts{{"path", "/api/v2/alerts"}};
  const double posts_before = daemon.metric("tocsin_api_requests_total", alerts_posts);
  ASSERT_TRUE(daemon.wait_for_metric(
      "tocsin_api_requests_total", alerts_posts,
      [&](double posts) { return posts >= posts_before + 3; }, prometheus_patience))
      << prometheus.log();
  std::size_t firing_count = 0;
  for (const json& b : bodies(hook)) firing_count += b.value("status", "") == "firing" ? 1 : 0;
  EXPECT_EQ(firing_count, 1U);

  // A silence of something else makes the rule stop firing; Prometheus sends the alert once more
  // with endsAt in the past, and tocsin sends the resolved notification.
  const json silence = {{"matchers", json::array({{{"name", "alertname"},
                                                   {"value", "unrelated"},
                                                   {"isRegex", false},
                                                   {"isEqual", true}}})},
                        {"startsAt", "2020-01-01T00:00:00Z"},
                        {"endsAt", "2100-01-01T00:00:00Z"},
                        {"createdBy", "prometheus_test"},
                        {"comment", "resolves TocsinNoSilences"}};
  const auto posted =
      http_request("POST", "127.0.0.1", daemon.admin_port(), "/api/v2/silences", silence.dump());
  ASSERT_EQ(posted.status, 200) << posted.body;
  ASSERT_TRUE(wait_until([&] { return has_notification(hook, "resolved"); }, prometheus_patience))
      << "no resolved notification; tocsin's alerts: "
      << http_get("127.0.0.1", daemon.admin_port(), "/api/v2/alerts").body << "\n"
      << prometheus.log();
  for (const json& b : bodies(hook)) {
    if (b.value("status", "") != "resolved") continue;
    ASSERT_EQ(b["alerts"].size(), 1U) << b.dump();
    EXPECT_EQ(b["alerts"][0]["labels"]["alertname"], "TocsinNoSilences");
    EXPECT_EQ(b["alerts"][0]["status"], "resolved");
  }
}

}  // namespace
}  // namespace tocsin::test
