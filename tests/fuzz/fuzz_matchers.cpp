// libFuzzer target for the matcher grammar (config/matcher_syntax.hpp): any text is accepted or
// refused with a reason, and every accepted matcher prints (Matcher.String()) to text that reads
// back to the same matcher.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/matcher_syntax.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tocsin::config;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string problem;
  const auto matchers = parse_matchers(text, &problem);
  if (!matchers) {
    if (problem.empty()) std::abort();
    return 0;
  }
  for (const matcher_spec& m : *matchers) {
    if (m.name.empty()) std::abort();
    const auto back = parse_matchers(to_string(m));
    if (!back || back->size() != 1 || back->front() != m) std::abort();
    const auto one = parse_matcher(to_string(m));
    if (!one || *one != m) std::abort();
  }
  (void)parse_matcher(text);
  return 0;
}
