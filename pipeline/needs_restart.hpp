#pragma once
// What a reload cannot change in a running daemon.

#include <string>
#include <vector>

#include "config/config.hpp"

namespace tocsin::pipeline {

// The sections whose settings differ between `running` and `next` but stay fixed for the life
// of a process: "inputs", "limits", "bus", "admin", "data_dir", "node_name". Empty: a reload
// applies everything.
std::vector<std::string> needs_restart(const config::config& running, const config::config& next);

}  // namespace tocsin::pipeline
