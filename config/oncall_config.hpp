#pragma once
// Internal to tocsin_config: reading the `oncall:` section (DESIGN.md, "On-call") and checking
// what routes name in it.

#include <chrono>
#include <optional>
#include <string_view>

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace tocsin::config {

// Fills `out` from the `oncall:` entry, reporting every problem to `reader`.
void load_oncall(yaml_reader& reader, const yaml_entry& at, oncall_config& out);

// `2026-11-30T09:00`, `2026-11-30T09:00:30` or `2026-11-30` (midnight): a local civil time.
std::optional<std::chrono::local_seconds> parse_local_time(std::string_view text);

}  // namespace tocsin::config
