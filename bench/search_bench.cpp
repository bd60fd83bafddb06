// Archive search throughput: search::search_archive() over a generated day of about 200 MB of
// Event JSON lines (20 hosts × 5 apps, sshd, nginx, cron, kernel and a GELF api with fields),
// read back to front as `tocsin search` and /api/v1/search do. Bytes/s is of the bytes read from
// the candidate files (after the first iteration, from the page cache). Every benchmark counts
// every match over the day (histogram mode), so the limit never ends a scan early.
//
//   build-release/bench/tocsin_bench --benchmark_filter=search

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include "collector/event.hpp"
#include "rules/event_filter.hpp"
#include "search/archive_search.hpp"

namespace {

using namespace tocsin;
namespace fs = std::filesystem;

constexpr std::uint64_t archive_bytes = std::uint64_t{200} << 20;
const auto day =
    std::chrono::system_clock::time_point(std::chrono::sys_days(std::chrono::year(2026) / 3 / 10));

// The generated archive, removed when the process exits.
class archive {
 public:
  archive()
      : root_(fs::temp_directory_path() / ("tocsin-search-bench-" + std::to_string(::getpid()))) {
    std::mt19937 rng(42);
    std::map<std::string, std::string> pending;  // file → lines not written yet
    std::uint64_t written = 0;
    const std::uint64_t lines_estimate = archive_bytes / 260;
    for (std::uint64_t i = 0; written < archive_bytes; ++i) {
      collector::event ev;
      const std::string host = "web" + std::to_string(rng() % 20 + 1) + ".prod.example.com";
      ev.host = host;
      ev.received_at = day + std::chrono::microseconds(i * 86'400'000'000ULL / lines_estimate);
      ev.timestamp = "2026-03-10T04:10:55.120001+00:00";
      ev.source = "10.1.2." + std::to_string(rng() % 250) + ":51514";
      ev.input = "syslog-tcp";
      ev.format = "rfc5424";
      ev.facility = 3;
      ev.severity = 6;
      std::string message;
      const unsigned kind = rng() % 100;
      const std::string ip = "203.0.113." + std::to_string(rng() % 250);
      if (kind < 20) {
        ev.app = "sshd";
        ev.facility = 10;
        ev.procid = "4242";
        message = kind < 3 ? "Failed password for root from " + ip + " port 52144 ssh2"
                           : "Accepted publickey for deploy from " + ip +
                                 " port 52144 ssh2: ED25519 SHA256:AAAAC3NzaC1lZDI1NTE5AAAAI";
      } else if (kind < 70) {
        ev.app = "nginx";
        message = ip + " - - [10/Mar/2026:04:10:55 +0000] \"GET /api/v1/items/" +
                  std::to_string(rng() % 100000) + " HTTP/1.1\" " + (kind < 22 ? "502" : "200") +
                  " 5123 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\" rt=0.0" +
                  std::to_string(rng() % 100);
      } else if (kind < 80) {
        ev.app = "CRON";
        message = "(root) CMD (/usr/local/bin/backup --incremental --target s3://backups/" +
                  std::to_string(rng() % 1000) + ")";
      } else if (kind < 85) {
        ev.app = "kernel";
        ev.facility = 0;
        ev.severity = kind == 80 ? 3 : 6;
        message = kind == 80 ? "EXT4-fs error (device sda1): No space left on device"
                             : "TCP: request_sock_TCP: Possible SYN flooding on port 443.";
      } else {
        ev.app = "api";
        ev.format = "gelf";
        ev.input = "gelf-udp";
        ev.severity = kind < 87 ? 3 : 6;
        message = kind < 87 ? "request failed: upstream connect error or disconnect/reset"
                            : "request served";
        ev.fields = {{"user_id", rng() % 100000},
                     {"trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"},
                     {"duration_ms", rng() % 2000},
                     {"path", "/v2/orders/" + std::to_string(rng() % 100000)}};
      }
      ev.message = message;
      std::string& out =
          pending[(root_ / "2026-03-10" / host / (std::string(ev.app) + ".log")).string()];
      const std::size_t before = out.size();
      collector::append_event_json(ev, out);
      out += '\n';
      written += out.size() - before;
    }
    for (const auto& [path, text] : pending) {
      fs::create_directories(fs::path(path).parent_path());
      std::ofstream(path, std::ios::binary) << text;
    }
  }
  ~archive() { fs::remove_all(root_); }
  archive(const archive&) = delete;
  archive& operator=(const archive&) = delete;

  [[nodiscard]] std::string path_template() const {
    return (root_ / "{date}/{host}/{app}.log").string();
  }

 private:
  fs::path root_;
};

const archive& the_archive() {
  static const archive a;
  return a;
}

void run(benchmark::State& state, const char* filter_text) {
  const std::vector<std::string> templates = {the_archive().path_template()};
  const auto filter = rules::event_filter::parse(filter_text);
  search::search_options options;
  options.since = day;
  options.until = day + std::chrono::hours(24);
  options.limit = 100;
  options.buckets = 60;
  std::uint64_t bytes = 0, matches = 0;
  for (auto _ : state) {
    const auto r = search::search_archive(
        templates, filter, options, [](const collector::event&, std::string_view) { return true; });
    bytes += r.bytes_scanned;
    matches = r.matches;
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["matches"] = static_cast<double>(matches);
}

// No shortcut: a negated term, so each line is parsed and matched (the worst case).
void BM_search_parse_every_line(benchmark::State& state) { run(state, R"(host!~"^db")"); }
// A regex over every file: lines without its literal ("Failed password for ") are not parsed.
void BM_search_regex_every_file(benchmark::State& state) {
  run(state, R"(message=~"Failed password for \w+ from")");
}
// The DESIGN.md example: app="sshd" opens the sshd files only and skips lines without "sshd".
void BM_search_app_and_regex(benchmark::State& state) {
  run(state, R"(app="sshd" message=~"Failed password")");
}
// Words (message contains, ignoring case) over every file: the raw line is checked first.
void BM_search_words(benchmark::State& state) { run(state, R"("no space left" device)"); }

BENCHMARK(BM_search_parse_every_line)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_search_regex_every_file)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_search_app_and_regex)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_search_words)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
