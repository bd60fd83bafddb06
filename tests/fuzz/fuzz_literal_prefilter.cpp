// libFuzzer target for rules/literal_prefilter.hpp: the input is patterns, one per line, then a
// NUL and a text. Whenever a pattern the prefilter guards matches the text, the prefilter must
// say the text may match.

#include <re2/re2.h>

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
  const auto split = literal_prefilter::analyse(patterns, options);
  if (split.filtered.size() != patterns.size()) std::abort();
  const literal_prefilter filter(split.atoms);
  std::string scratch;
  const bool may = filter.may_match(text, scratch);
  for (std::size_t p = 0; p < patterns.size(); ++p) {
    if (split.filtered[p] && !may && RE2::PartialMatch(text, *compiled[p])) std::abort();
  }
  return 0;
}
