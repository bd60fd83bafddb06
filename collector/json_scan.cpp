#include "collector/json_scan.hpp"

#include "core/utf8.hpp"

namespace tocsin::collector {

json_scan scan_json_document(std::string_view s, int max_depth) {
  json_scan r;
  bool in_string = false;
  bool escaped = false;
  int depth = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8_sequence_length(s, i);
      if (n == 0) {
        r.valid_utf8 = false;
        ++i;
      } else {
        i += n;
      }
      escaped = false;
      continue;
    }
    ++i;
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) {
        r.too_deep = true;
        return r;
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return r;
}

}  // namespace tocsin::collector
