// Decode throughput of the syslog decoders on typical lines, one reused event (as a shard
// does). Goal: >= 3 M RFC 5424 lines/s per core in a Release build.

#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

#include "collector/event.hpp"
#include "collector/syslog_decoder.hpp"

namespace {

using namespace tocsin::collector;

// 180 bytes: header with microsecond timestamp, one SD element of three params, short MSG.
const std::string rfc5424_line =
    "<165>1 2026-11-26T04:10:55.120001+00:00 web-01.example.com nginx 12345 ACCESS "
    "[req@32473 method=\"GET\" status=\"200\" bytes=\"1532\"] GET /api/v1/items?page=2 from "
    "10.0.0.7 ua=curl/8.10";

const std::string rfc3164_line =
    "<86>Nov 26 04:10:55 web-01 sshd[2231]: Failed password for invalid user admin from "
    "203.0.113.9 port 52212 ssh2";

syslog_decode_context context() { return {std::chrono::system_clock::now(), nullptr}; }

void run(benchmark::State& state, const std::string& line,
         decode_status (*decode)(std::string_view, const syslog_decode_context&, event&)) {
  const auto ctx = context();
  event ev;
  for (auto _ : state) {
    decode_status st = decode(line, ctx, ev);
    benchmark::DoNotOptimize(st);
    benchmark::DoNotOptimize(ev.message.data());
    if (!st.is_ok()) state.SkipWithError(st.what);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(line.size()));
  state.SetLabel(std::to_string(line.size()) + "-byte line");
}

decode_status rfc5424_adapter(std::string_view msg, const syslog_decode_context&, event& ev) {
  return decode_rfc5424(msg, ev);
}

void BM_decode_rfc5424(benchmark::State& state) { run(state, rfc5424_line, rfc5424_adapter); }
BENCHMARK(BM_decode_rfc5424);

void BM_decode_rfc3164(benchmark::State& state) { run(state, rfc3164_line, decode_rfc3164); }
BENCHMARK(BM_decode_rfc3164);

// auto on RFC 3164 input pays for the failed RFC 5424 attempt first.
void BM_decode_syslog_auto_rfc3164(benchmark::State& state) {
  run(state, rfc3164_line, decode_syslog_auto);
}
BENCHMARK(BM_decode_syslog_auto_rfc3164);

void BM_decode_syslog_auto_rfc5424(benchmark::State& state) {
  run(state, rfc5424_line, decode_syslog_auto);
}
BENCHMARK(BM_decode_syslog_auto_rfc5424);

}  // namespace
