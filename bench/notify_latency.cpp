// Issue 5's end-to-end latency: a syslog line in → the webhook POST for its alert received, with
// group_wait 0s and every alert its own group (group_by ['...']). Sends 1000 paced lines over one
// TCP connection to a real `tocsin run`, matches each POST to its line by the alert's `n` label and
// prints count, p50, p90, p99 and max in ms (the goal is p99 < 50 ms; this reports, not asserts).
// Exits non-zero only when alerts are missing.
//
//   tocsin_notify_latency [alerts=1000] [pace_us=2000]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/tocsin_daemon.hpp"
#include "tests/support/http_capture.hpp"

namespace {

using namespace tocsin::test;
using steady = std::chrono::steady_clock;

std::string syslog_line(int n) {
  return "<11>1 " + now_rfc3339() + " bench-host latency - - - lat " + std::to_string(n) + "\n";
}

daemon_options bench_options(const http_capture& hook) {
  daemon_options options;
  options.files["rules/latency.yaml"] =
      "rules:\n"
      "  - name: latency\n"
      "    match: { message: 'lat (?P<n>[0-9]+)' }\n"
      "    severity: warning\n";
  options.extra_config =
      "rules_files: [\"rules/*.yaml\"]\n"
      "route: { receiver: hook, group_by: ['...'], group_wait: 0s, group_interval: 1s }\n"
      "receivers:\n"
      "  - { name: hook, webhook: { url: \"" +
      hook.url("/hook") + "\" } }\n";
  return options;
}

double ms(steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double p) {
  const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size()));
  return sorted[std::min(rank, sorted.size() - 1)];
}

int run(int alerts, std::chrono::microseconds pace) {
  http_capture hook;
  tocsin_daemon daemon(bench_options(hook));

  tcp_client conn(daemon.syslog_port());
  if (!conn.is_open()) {
    std::fprintf(stderr, "cannot connect to the syslog input\n");
    return 2;
  }
  std::vector<steady::time_point> sent(static_cast<std::size_t>(alerts));
  auto next = steady::now();
  for (int n = 0; n < alerts; ++n) {
    std::this_thread::sleep_until(next);
    const std::string line = syslog_line(n);
    sent[static_cast<std::size_t>(n)] = steady::now();
    if (!conn.send_all(line)) {
      std::fprintf(stderr, "send failed at line %d\n", n);
      return 2;
    }
    next += pace;
  }

  // One POST per alert is expected; a POST may still carry several, so count alerts, not POSTs.
  std::map<int, steady::time_point> first_seen;  // n → arrival of the first POST carrying it
  const auto collect = [&] {
    first_seen.clear();
    for (const auto& r : hook.requests()) {
      const json body = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
      if (!body.is_object() || !body.contains("alerts") || !body["alerts"].is_array()) continue;
      for (const json& a : body["alerts"]) {
        const std::string n = a.value("labels", json::object()).value("n", std::string());
        if (n.empty()) continue;
        first_seen.try_emplace(std::atoi(n.c_str()), r.received);
      }
    }
    return first_seen.size() >= static_cast<std::size_t>(alerts);
  };
  const bool complete = wait_until(collect, 30s);
  collect();
  const std::size_t posts = hook.requests().size();

  std::vector<double> latencies;
  for (const auto& [n, arrived] : first_seen) {
    if (n >= 0 && n < alerts) latencies.push_back(ms(arrived - sent[static_cast<std::size_t>(n)]));
  }
  std::sort(latencies.begin(), latencies.end());

  std::printf("alerts sent %d, received %zu (in %zu POSTs), pace %.1f ms\n", alerts,
              latencies.size(), posts, static_cast<double>(pace.count()) / 1000.0);
  if (!latencies.empty()) {
    std::printf("latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  (min %.2f)\n",
                percentile(latencies, 50), percentile(latencies, 90), percentile(latencies, 99),
                latencies.back(), latencies.front());
  }
  if (!complete) {
    std::fprintf(stderr, "missing %zu alerts; tocsin log:\n%s\n", alerts - latencies.size(),
                 daemon.log_text().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int alerts = argc > 1 ? std::atoi(argv[1]) : 1000;
  const std::chrono::microseconds pace{argc > 2 ? std::atoi(argv[2]) : 2000};
  if (alerts <= 0 || pace.count() < 0) {
    std::fprintf(stderr, "usage: %s [alerts=1000] [pace_us=2000]\n", argv[0]);
    return 2;
  }
  try {
    return run(alerts, pace);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
}
