#pragma once
// A cheap pass over a JSON text before nlohmann::json parses it: whether it is valid UTF-8
// (nlohmann::json rejects it otherwise) and shallow enough that destroying or serializing the
// parsed document cannot exhaust the stack (both recurse). Used by the GELF decoder and the
// Event JSON reader.

#include <string_view>

namespace tocsin::collector {

struct json_scan {
  bool valid_utf8 = true;
  bool too_deep = false;  // set: the scan stopped early, valid_utf8 is not known
};

// Nesting of objects and arrays beyond `max_depth` is too deep.
json_scan scan_json_document(std::string_view s, int max_depth);

}  // namespace tocsin::collector
