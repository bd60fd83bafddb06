#pragma once
// Reading a YAML tree into typed values while collecting every problem as FILE:LINE:COL: message,
// with "did you mean" suggestions for unknown keys and values. Shared by the config loader and
// the rules loader, so both report errors the same way.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/section_reader.hpp"  // names, quote(), suggestion()

namespace tocsin::config {

std::string join(const std::vector<std::string>& parts, std::string_view separator);
std::string join(names parts, std::string_view separator);

// What a node is, for "expected X, got Y": a quoted scalar, "a list", "a mapping", "nothing".
std::string describe(const YAML::Node& node);

// Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*.
bool valid_label_name(std::string_view name);

// One `key: value` pair of a mapping (or one list item), with its path for messages
// (`inputs[0].listen`).
struct yaml_entry {
  std::string name;  // the key; "" for a list item
  YAML::Node value;
  YAML::Mark key_mark;  // the key, or the item itself
  std::string path;

  // Where a problem with the value is reported. yaml-cpp marks an empty value at the token
  // after it, so an empty value is reported at its key.
  [[nodiscard]] YAML::Mark mark() const { return value.IsNull() ? key_mark : value.Mark(); }
};

const yaml_entry* find(const std::vector<yaml_entry>& entries, std::string_view name);

// The one YAML document of `yaml` (a null node when there is none). Throws config_error with one
// `FILE:LINE:COL: message` on a syntax error or a second document; `what` names the file kind
// in that message ("a config file").
YAML::Node parse_document(const std::string& yaml, const std::string& file,
                          std::string_view what = "a config file");

// The whole content of `file`; throws config_error `FILE: cannot read: reason`.
std::string read_text_file(const std::filesystem::path& file);

// Walks a YAML tree, turning nodes into values and collecting every problem on the way, so a
// loader can report them all at once. Each reading function reports its own problem and returns
// nullopt.
class yaml_reader {
 public:
  explicit yaml_reader(std::string file) : file_(std::move(file)) {}

  [[nodiscard]] const std::string& file() const { return file_; }
  [[nodiscard]] bool has_errors() const { return !problems_.empty(); }

  // Every problem, sorted by position, each `FILE:LINE:COL: message` (`FILE: message` when it
  // has no position).
  [[nodiscard]] std::vector<std::string> errors() const;

  // Records a problem; `path` ("inputs[0].listen") prefixes the message unless empty.
  void error(const YAML::Mark& mark, const std::string& path, const std::string& message);

  [[nodiscard]] source_location where(const YAML::Mark& mark) const {
    return {file_, mark.line + 1, mark.column + 1};
  }

  // The entries of a mapping whose keys are all `known`; unknown and duplicate keys are
  // reported and left out. An empty value counts as an empty mapping when `null_is_empty`.
  std::optional<std::vector<yaml_entry>> mapping(const yaml_entry& at, names known,
                                                 bool null_is_empty = true);

  // The items of a list; an empty value is an empty list.
  std::optional<std::vector<yaml_entry>> list(const yaml_entry& at);

  // Reports each of `required` missing from `entries` (`why` is appended to the message).
  void require(const yaml_entry& at, const std::vector<yaml_entry>& entries, names required,
               const std::string& why = "");

  std::optional<std::string> text(const yaml_entry& e, bool allow_empty = false);
  std::optional<std::string> choice(const yaml_entry& e, names allowed);
  std::optional<bool> flag(const yaml_entry& e);
  std::optional<std::uint64_t> count(const yaml_entry& e, std::uint64_t min, std::uint64_t max);
  std::optional<duration> span(const yaml_entry& e);     // a Go/Prometheus duration
  std::optional<endpoint> address(const yaml_entry& e);  // host:port, see parse_endpoint()
  std::optional<std::string> url(const yaml_entry& e);   // http:// or https://
  std::optional<std::vector<std::string>> text_list(const yaml_entry& e);

  // A mapping of free-form keys to scalar values (kafka properties, HTTP headers, labels).
  std::optional<std::map<std::string, std::string>> text_map(const yaml_entry& e);

 private:
  struct problem {
    int line = 0;  // 1-based; 0 = no position
    int column = 0;
    std::string text;
  };

  std::string file_;
  std::vector<problem> problems_;
};

// A receiver's integration section as written (`webhook: { url: … }`), kept for the
// integration's factory, which reads it with section_reader (config/section_reader.hpp).
struct receiver_section {
  std::string file;
  yaml_entry entry;  // the integration's key and its value
};

}  // namespace tocsin::config
