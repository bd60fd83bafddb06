#pragma once
// Writing JSON string literals by hand, for the hot paths that do not build an nlohmann::json
// (Event and Alert JSON). Invalid UTF-8 is replaced with U+FFFD, so the output is always valid.

#include <string>
#include <string_view>

namespace tocsin {

// Appends `s` escaped as the inside of a JSON string (no quotes).
void append_json_escaped(std::string_view s, std::string& out);

// Appends `s` as a JSON string literal, quotes included.
void append_json_string(std::string_view s, std::string& out);

}  // namespace tocsin
