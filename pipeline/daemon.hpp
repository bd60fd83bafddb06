#pragma once
// `tocsin run`, `tocsin collector` and `tocsin router`: a daemon of one role, until SIGTERM.

#include <filesystem>

namespace tocsin::pipeline {

// Which halves a daemon runs: `run` both (on either bus), `collector` and `router` one each.
enum class daemon_role { all, collector, router };

// Loads `config_file` and runs the halves of `role`, the admin listener and the reloads until
// SIGTERM or SIGINT; returns the exit code. Throws when the daemon cannot start (a config that
// does not load, `collector` or `router` without bus.type kafka, an input that cannot bind).
int run_daemon(const std::filesystem::path& config_file, daemon_role role);

}  // namespace tocsin::pipeline
