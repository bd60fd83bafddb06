#pragma once
// Internal to tocsin_config: reading Alertmanager's `time_intervals` (and the deprecated
// `mute_time_intervals`) section.

#include <vector>

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace tocsin::config {

// Appends each interval of the list at `at` to `out`, reporting every problem to `reader`
// (duplicate names among those already in `out` included).
void load_time_intervals(yaml_reader& reader, const yaml_entry& at,
                         std::vector<time_interval_config>& out);

}  // namespace tocsin::config
