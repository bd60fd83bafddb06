// GELF decode throughput: a typical ~300-byte message, plain and zlib-compressed, and the
// chunk assembler on a 3-chunk message. Registered here; main comes from bench/CMakeLists.txt.

#include <benchmark/benchmark.h>
#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "collector/gelf.hpp"
#include "collector/gelf_chunk_assembler.hpp"

namespace {

using namespace tocsin::collector;

// Shaped like what graypy and Docker's GELF driver send.
const std::string typical_gelf =
    R"({"version":"1.1","host":"web-01.example.com","short_message":"GET /api/v1/orders/81723 )"
    R"(returned 200 in 12ms","timestamp":1764130255.120,"level":6,"_app":"orders-api",)"
    R"("_container_name":"orders-api-7f9c","_image_name":"registry.example.com/orders:2.4.1",)"
    R"("_request_id":"4bf92f3577b34da6","_status":200,"_duration_ms":12.4,"_user_id":9001})";

std::string zlib_compress(const std::string& in) {
  uLongf size = compressBound(static_cast<uLong>(in.size()));
  std::string out(size, '\0');
  compress2(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(in.data()),
            static_cast<uLong>(in.size()), Z_DEFAULT_COMPRESSION);
  out.resize(size);
  return out;
}

void run_decode(benchmark::State& state, const std::string& payload) {
  std::string scratch;
  event ev;
  for (auto _ : state) {
    const decode_status st = decode_gelf_payload(payload, 65536, scratch, ev);
    if (!st.is_ok()) state.SkipWithError(st.code);
    benchmark::DoNotOptimize(ev.message.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(payload.size()));
}

void BM_decode_gelf_plain(benchmark::State& state) { run_decode(state, typical_gelf); }
BENCHMARK(BM_decode_gelf_plain);

void BM_decode_gelf_zlib(benchmark::State& state) {
  run_decode(state, zlib_compress(typical_gelf));
}
BENCHMARK(BM_decode_gelf_zlib);

void BM_gelf_chunk_reassembly_3x8k(benchmark::State& state) {
  std::string payload(3 * 8000, 'x');
  std::string chunks[3];
  for (int i = 0; i < 3; ++i) {
    chunks[i] = std::string(
        "\x1e\x0f"
        "abcdefgh",
        10);
    chunks[i] += static_cast<char>(i);
    chunks[i] += static_cast<char>(3);
    chunks[i] += payload.substr(static_cast<std::size_t>(i) * 8000, 8000);
  }
  gelf_chunk_assembler assembler;
  const auto now = gelf_chunk_assembler::clock::now();
  for (auto _ : state) {
    for (const auto& c : chunks) benchmark::DoNotOptimize(assembler.add(c, now).payload.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(payload.size()));
}
BENCHMARK(BM_gelf_chunk_reassembly_3x8k);

}  // namespace
