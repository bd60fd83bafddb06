#pragma once
// Reading a receiver's integration section into typed values. Each notifier factory (sinks/)
// names its keys and reads them with a section_reader, so the integration owns its schema while
// every message reads like the rest of the config's: `FILE:LINE:COL: receivers[0].webhook.url:
// message`, at the offending key, every problem of the section at once.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace tocsin::config {

using names = std::span<const std::string_view>;

// "; did you mean 'x'?" for the closest of `candidates`, else "".
std::string suggestion(std::string_view word, names candidates);

// User text for a message: quoted, control characters escaped, long values cut.
std::string quote(std::string_view text);

// The content of a file holding a secret (a password, a token, a URL with a key in it), trailing
// whitespace removed: editors and `echo` add a newline that is not part of it. nullopt when the
// file cannot be read, is empty or holds more than one line, with `problem` saying which.
std::optional<std::string> read_secret_file(const std::filesystem::path& file,
                                            std::string& problem);

// Where `receiver`'s integration key was written; the receiver's own location when it was built
// in code.
source_location integration_where(const receiver_config& receiver);
// Its path in the config, as messages name it (`receivers[0].slack_configs[1]`); the
// integration's name when it was built in code.
std::string integration_path(const receiver_config& receiver);

// A free-form value whose scalars are texts (a webhook's `payload`): a mapping (entries in the
// order written), a list, or one scalar.
struct text_tree {
  enum class kind { text, list, map };
  kind type = kind::text;
  std::string name;  // its key in the mapping that holds it; "" in a list or at the top
  std::string text;
  bool plain = false;  // an unquoted scalar (`3`, `true`), which may stand for a number or bool
  std::vector<text_tree> items;
  std::string path;  // for messages: `payload.a[0]`
  source_location where;
};

// One mapping of a receiver's integration section (or a mapping nested in it). Each reading
// function reports its own problem and returns nullopt; check() throws them all.
class section_reader {
 public:
  // The integration section of `receiver`; `keys` are every key it may hold. Unknown keys are
  // reported with a "did you mean", duplicate keys too. A receiver without a section (built in
  // code) reads as an empty one.
  section_reader(const receiver_config& receiver, names keys);
  // A section that is not a receiver's own (global.http_config).
  section_reader(const receiver_section& section, names keys);
  ~section_reader();
  section_reader(section_reader&&) noexcept;
  section_reader& operator=(section_reader&&) noexcept;

  [[nodiscard]] bool has(std::string_view key) const;
  // Where `key`'s value starts (the section's own location when `key` is absent): for messages
  // from parsers of their own, such as a template's.
  [[nodiscard]] source_location where(std::string_view key) const;
  // Reports each of `keys` that is missing.
  void require(names keys);
  // Reports that none of `keys` is there ("missing required key 'a' or 'b'").
  void require_one_of(names keys);

  std::optional<std::string> text(std::string_view key);  // not empty
  std::optional<std::string> url(std::string_view key);   // http:// or https://
  // One of `allowed`; "" among them allows an empty value.
  std::optional<std::string> choice(std::string_view key, names allowed);
  std::optional<bool> flag(std::string_view key);
  std::optional<std::uint64_t> count(std::string_view key, std::uint64_t min, std::uint64_t max);
  std::optional<duration> span(std::string_view key);     // a Go/Prometheus duration
  std::optional<endpoint> address(std::string_view key);  // host:port
  std::optional<std::vector<std::string>> text_list(std::string_view key);
  std::optional<std::map<std::string, std::string>> text_map(std::string_view key);
  std::optional<text_tree> tree(std::string_view key);
  // A file name, relative to the config file's folder (systemd starts us in /).
  std::optional<std::filesystem::path> path(std::string_view key);
  // The secret in the file `key` names (read_secret_file()).
  std::optional<std::string> secret_file(std::string_view key);

  // The mapping under `key` (`auth: { … }`), whose problems join this reader's. Absent or empty,
  // it reads as empty.
  section_reader section(std::string_view key, names keys);
  // The mappings of the list under `key` (Opsgenie's `responders: [{…}, …]`), each read like
  // section(). Absent or empty, none.
  std::vector<section_reader> section_list(std::string_view key, names keys);

  // Warns (config/warnings.hpp) about each of `keys` that is there: tocsin reads no further.
  // For Alertmanager's keys tocsin does not implement, so its files load unchanged.
  void ignore(names keys, std::string_view why);

  // Reports a problem with `key`'s value (with the section itself when `key` is absent).
  void error(std::string_view key, const std::string& message);
  // Throws config_error with every problem found so far by this reader and the readers of its
  // sections, sorted by position.
  void check() const;

 private:
  struct impl;
  explicit section_reader(std::unique_ptr<impl> state);

  std::unique_ptr<impl> impl_;
};

}  // namespace tocsin::config
