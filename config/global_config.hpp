#pragma once
// Internal to tocsin_config: reading Alertmanager's `global:` section.

#include <filesystem>

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace tocsin::config {

// Reads the `global:` mapping at `at` into `out`, reporting every problem to `reader`. `*_file`
// secrets are read now, relative to `base_dir`. Alertmanager's keys for integrations tocsin does
// not have (wechat, victorops, webex …) are accepted and ignored: they only hold defaults.
void load_global(yaml_reader& reader, const yaml_entry& at, const std::filesystem::path& base_dir,
                 global_config& out);

}  // namespace tocsin::config
