// karma and Grafana's Alertmanager data source against a real `tocsin run` with an admin token:
// the requests they send (tests/unit/sinks/alertmanager_dashboards_test.cpp checks every field
// of the answers) reach the daemon's API with the custom header both can send, and karma's
// version probe of /metrics finds no alertmanager_build_info, so karma reads tocsin with its
// newest Alertmanager mapper.

#include <gtest/gtest.h>

#include <string>

#include "tests/integration/tocsin_daemon.hpp"

namespace tocsin::test {
namespace {

class dashboards : public ::testing::Test {
 protected:
  dashboards() : daemon_(options()) {}

  static daemon_options options() {
    daemon_options o;
    o.extra_admin = ", token_file: admin.token";
    o.files["admin.token"] = "dash-secret\n";
    o.extra_config =
        "route:\n"
        "  receiver: audit\n"
        "  group_by: [alertname]\n"
        "  routes:\n"
        "    - { matchers: ['team=\"night\"'], receiver: audit, mute_time_intervals: [always] }\n"
        "time_intervals:\n"
        "  - name: always\n"
        "    time_intervals: [ { times: [ { start_time: '00:00', end_time: '24:00' } ] } ]\n"
        "receivers:\n"
        "  - { name: audit, file: { path: alerts.jsonl } }\n";
    return o;
  }

  // As karma's Go client sends it (prymitive/karma internal/uri/http.go,
  // internal/mapper/v017/api.go) with `headers: {Authorization: "Bearer <token>"}`.
  http_response karma_get(const std::string& path) {
    return http_request("GET", "127.0.0.1", daemon_.admin_port(), path, {}, {}, 10s,
                        {{"User-Agent", "Go-http-client/1.1"},
                         {"Accept-Encoding", "gzip"},
                         {"Authorization", "Bearer dash-secret"}});
  }

  tocsin_daemon daemon_;
};

TEST_F(dashboards, karma_probes_metrics_and_reads_groups_with_the_bearer_header) {
  // internal/alertmanager/models.go probeVersion(): alertmanager_build_info{version} picks the
  // mapper; without it karma takes its newest (internal/mapper/mapper.go latestIfEmpty).
  const auto metrics = karma_get("/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.body;
  EXPECT_EQ(metrics.body.find("alertmanager_build_info"), std::string::npos);

  const auto posted = http_request(
      "POST", "127.0.0.1", daemon_.admin_port(), "/api/v2/alerts",
      R"([{"labels":{"alertname":"cpu","team":"night"}},{"labels":{"alertname":"disk"}}])",
      "application/json", 10s, {{"Authorization", "Bearer dash-secret"}});
  ASSERT_EQ(posted.status, 200) << posted.body;

  json groups;
  ASSERT_TRUE(wait_until(
      [&] {
        const auto r = karma_get("/api/v2/alerts/groups");
        groups = json::parse(r.body, nullptr, false);
        return r.status == 200 && groups.is_array() && groups.size() == 2;
      },
      patience))
      << groups.dump();
  for (const auto& g : groups) {
    const auto& status = g["alerts"][0]["status"];
    if (g["labels"]["alertname"] == "cpu") {
      EXPECT_EQ(status["mutedBy"], json::array({"always"}));
      EXPECT_EQ(status["state"], "suppressed");
    } else {
      EXPECT_EQ(status["mutedBy"], json::array());
      EXPECT_EQ(status["state"], "active");
    }
  }
  EXPECT_EQ(karma_get("/api/v2/silences").status, 200);
  // Without the header: refused.
  EXPECT_EQ(http_get("127.0.0.1", daemon_.admin_port(), "/api/v2/alerts/groups").status, 401);
}

TEST_F(dashboards, grafana_health_check_passes) {
  // public/app/plugins/datasource/alertmanager/DataSource.ts testDatasource(), implementation
  // "prometheus", through the data source proxy with a custom Authorization header.
  const auto get = [&](const char* path) {
    return http_request("GET", "127.0.0.1", daemon_.admin_port(), path, {}, {}, 10s,
                        {{"User-Agent", "Grafana/11.3.0"},
                         {"X-Grafana-Org-Id", "1"},
                         {"Authorization", "Bearer dash-secret"}});
  };
  EXPECT_NE(get("/alertmanager/api/v2/status").status, 200);  // that would be Mimir
  const auto status = get("/api/v2/status");
  ASSERT_EQ(status.status, 200) << status.body;
  const auto j = json::parse(status.body, nullptr, false);
  // pkg/services/ngalert/api/tooling/definitions/alertmanager.go GettableStatus.UnmarshalJSON
  // dereferences config and parses config.original as Alertmanager YAML.
  ASSERT_TRUE(j["config"]["original"].is_string()) << status.body;
  EXPECT_TRUE(j["cluster"]["peers"].is_array());
  // The routing part of the config in Alertmanager's YAML: Grafana shows it as notification
  // policies; Alertmanager's own checker takes it.
  const std::string original = j["config"]["original"];
  EXPECT_NE(original.find("mute_time_intervals"), std::string::npos) << original;
  EXPECT_EQ(original.find("alerts.jsonl"), std::string::npos) << "a receiver's settings leaked";
  if (const auto amtool = find_program("amtool"); !amtool.empty()) {
    temp_dir dir("dashboards");
    const auto file = dir.write_file("alertmanager.yml", original);
    const auto checked = run_command({amtool.string(), "check-config", file.string()});
    EXPECT_EQ(checked.exit_code, 0) << checked.stdout_text << checked.stderr_text << original;
  }
}

}  // namespace
}  // namespace tocsin::test
