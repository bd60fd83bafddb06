// `tocsin check-config -c FILE`: every problem a daemon or a reload would find, without starting
// anything; exit 1 when there is one. Warnings (on-call gaps) leave the exit status alone.

#include <cstdio>
#include <string>
#include <vector>

#include "app/commands.hpp"
#include "pipeline/config_check.hpp"

namespace tocsin::app {

int run_check_config(const std::string& config_file) {
  pipeline::checked_config checked;
  try {
    checked = pipeline::check_config_file(config_file);
  } catch (const config::config_error& e) {
    checked.errors = e.errors();
  }
  const auto& errors = checked.errors;
  for (const auto& err : errors) std::fprintf(stderr, "%s\n", err.c_str());
  for (const auto& warning : checked.warnings) std::fprintf(stderr, "%s\n", warning.c_str());
  if (!errors.empty()) return 1;
  std::printf("%s: ok\n", config_file.c_str());
  return 0;
}

}  // namespace tocsin::app
