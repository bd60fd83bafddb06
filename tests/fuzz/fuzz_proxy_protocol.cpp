// libFuzzer target for parse_proxy_header(). Besides "no crash", it checks the promises a
// connection reader relies on: a complete header is within the input and re-parses alone to the
// same result; need_more means the input may still grow into a header (so it is all header);
// invalid always says why.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "collector/proxy_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tocsin::collector;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const proxy_parse_result r = parse_proxy_header(in);
  switch (r.state) {
    case proxy_parse_result::complete: {
      const auto& h = r.header;
      if (h.length == 0 || h.length > in.size()) std::abort();
      if (h.version == 1 && h.length > proxy_v1_max_bytes) std::abort();
      if (h.version == 2 && h.length > proxy_v2_max_bytes) std::abort();
      if (h.version != 1 && h.version != 2) std::abort();
      if (h.source.has_value() != h.destination.has_value()) std::abort();
      const proxy_parse_result alone = parse_proxy_header(in.substr(0, h.length));
      if (alone.state != proxy_parse_result::complete || alone.header.length != h.length ||
          alone.header.source != h.source || alone.header.destination != h.destination) {
        std::abort();
      }
      // One byte less is never a header of its own.
      if (parse_proxy_header(in.substr(0, h.length - 1)).state == proxy_parse_result::complete) {
        std::abort();
      }
      break;
    }
    case proxy_parse_result::need_more:
      if (in.size() >= proxy_v2_max_bytes) std::abort();
      if (r.error != nullptr) std::abort();
      break;
    case proxy_parse_result::invalid:
      if (r.error == nullptr) std::abort();
      break;
  }
  return 0;
}
