#pragma once
// Query strings and form bodies (application/x-www-form-urlencoded) of admin API requests.

#include <map>
#include <string>
#include <string_view>

namespace tocsin {

using query_params = std::multimap<std::string, std::string>;

// As Go's url.Values encodes: space as '+', %XX escapes; a broken escape is kept as written.
std::string percent_decode(std::string_view s);

// The parameters after the '?' of `target`, or of a whole form body with `form_body`.
query_params parse_query(std::string_view target, bool form_body = false);

// The first value of `name`, "" when absent.
std::string first_value(const query_params& params, const std::string& name);

}  // namespace tocsin
