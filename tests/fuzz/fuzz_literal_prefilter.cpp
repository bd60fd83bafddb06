// libFuzzer target for rules/literal_prefilter.hpp: the input is patterns, one per line, then a
// NUL and a text. Whenever a pattern with required literals matches the text, the prefilter must
// name it among the candidates (or answer "any").

#include <re2/re2.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rules/literal_prefilter.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using tocsin::rules::literal_prefilter;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  if (nul == std::string_view::npos) return 0;
  const std::string_view text = input.substr(nul + 1);

  RE2::Options options;
  options.set_log_errors(false);
  std::vector<std::string> patterns;
  std::vector<std::unique_ptr<RE2>> compiled;
  std::string_view rest = input.substr(0, nul);
  while (!rest.empty() && patterns.size() < 64) {
    const std::size_t lf = rest.find('\n');
    const std::string_view line = rest.substr(0, lf);
    rest = lf == std::string_view::npos ? std::string_view() : rest.substr(lf + 1);
    auto re = std::make_unique<RE2>(line, options);
    if (!re->ok()) continue;  // the matcher refuses these before the prefilter sees them
    patterns.emplace_back(line);
    compiled.push_back(std::move(re));
  }
  std::vector<std::vector<std::string>> literals;
  std::vector<std::size_t> pattern_of;  // guarded pattern k -> index into patterns
  for (std::size_t p = 0; p < patterns.size(); ++p) {
    auto required = literal_prefilter::required_literals(patterns[p], options);
    if (required.empty()) continue;
    literals.push_back(std::move(required));
    pattern_of.push_back(p);
  }
  const literal_prefilter filter(literals);
  std::string scratch;
  std::vector<std::uint32_t> candidates;
  const auto verdict = filter.candidates(text, scratch, candidates);
  if (verdict == literal_prefilter::verdict::any) return 0;
  for (std::uint32_t k = 0; k < literals.size(); ++k) {
    const bool candidate = std::binary_search(candidates.begin(), candidates.end(), k);
    if (!candidate && RE2::PartialMatch(text, *compiled[pattern_of[k]])) std::abort();
  }
  return 0;
}
