#pragma once
// Scalar value parsers behind parse_duration() and parse_endpoint(), which also say why a value
// is rejected so the loader can print a useful message. Internal to tocsin_config.

#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace tocsin::config::detail {

// Like parse_endpoint(); on failure `problem` says what is wrong ("missing port", ...).
std::optional<endpoint> parse_endpoint(std::string_view text, std::string& problem);

// Like parse_duration(); on failure `problem` says what is wrong.
std::optional<duration> parse_duration(std::string_view text, std::string& problem);

}  // namespace tocsin::config::detail
