// `tocsin check-config -c FILE`: every problem a daemon or a reload would find, without starting
// anything; exit 1 when there is one.

#include <cstdio>
#include <string>
#include <vector>

#include "app/commands.hpp"
#include "pipeline/config_check.hpp"

namespace tocsin::app {

int run_check_config(const std::string& config_file) {
  std::vector<std::string> errors;
  try {
    errors = pipeline::check_config_file(config_file).errors;
  } catch (const config::config_error& e) {
    errors = e.errors();
  }
  for (const auto& err : errors) std::fprintf(stderr, "%s\n", err.c_str());
  if (!errors.empty()) return 1;
  std::printf("%s: ok\n", config_file.c_str());
  return 0;
}

}  // namespace tocsin::app
