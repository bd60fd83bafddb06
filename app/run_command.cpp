// `tocsin run`, `tocsin collector`, `tocsin router`: the daemon. Its wiring (which half starts
// what, reloads, the admin listener, signals, the shutdown order) is pipeline/daemon.cpp.

#include "app/commands.hpp"

namespace tocsin::app {

int run_daemon(const std::string& config_file, daemon_role role) {
  return pipeline::run_daemon(config_file, role);
}

}  // namespace tocsin::app
