#pragma once
// The errors a config or rules loader reports, for tests of config/ and what builds on it.
// Header-only and not in support.hpp: it needs config/, which tests/support does not link.

#include <filesystem>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace tocsin::test {

// Every error `load(text, file_name)` throws as a config::config_error (each
// "FILE:LINE:COL: message"); empty when it loads. `load` is config::load_string,
// rules::load_rules_string or any loader of that shape.
template <class Load>
std::vector<std::string> errors_of(Load load, const std::string& text,
                                   const std::filesystem::path& file_name = "t.yaml") {
  try {
    load(text, file_name);
  } catch (const config::config_error& e) {
    return e.errors();
  }
  return {};
}

}  // namespace tocsin::test
