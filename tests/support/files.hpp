#pragma once
// Reading what the binary under test wrote: whole files, JSON lines, files by suffix.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace tocsin::test {

// Whole file; throws std::runtime_error when it cannot be read.
std::string read_file(const std::filesystem::path& path);

// Whole file, or "" when it cannot be read: for the logs of peers that may not have written yet.
std::string read_file_if_present(const std::filesystem::path& path);

// Writes (truncates) `content`, creating parent directories; throws on failure.
void write_file(const std::filesystem::path& path, std::string_view content);

// One JSON value per complete line; blank lines are skipped. A missing file gives an empty vector
// and a last line without '\n' is ignored (still being written), so this can be polled with
// wait_until. A complete line that is not JSON throws std::runtime_error naming file and line.
std::vector<nlohmann::json> read_json_lines(const std::filesystem::path& path);

// Regular files under `dir` (recursively) whose name ends with `suffix`, sorted. A missing
// directory gives an empty vector.
std::vector<std::filesystem::path> find_files(const std::filesystem::path& dir,
                                              std::string_view suffix);

// Path of the built tocsin binary, and of the source tree (for config/examples etc.).
std::filesystem::path tocsin_binary();
std::filesystem::path source_dir();
// A script in tests/integration/peers/ that plays a real peer (smtp_server.py, graypy_send.py).
std::filesystem::path peer_script(std::string_view name);

}  // namespace tocsin::test
