#pragma once
// A scratch directory under /tmp that lives as long as the object.

#include <filesystem>
#include <string>
#include <string_view>

namespace tocsin::test {

// Creates /tmp/<prefix>-XXXXXX; removes it with everything inside on destruction, unless the
// environment variable TOCSIN_KEEP_TMP is set (then its path is printed to stderr for a
// post-mortem).
class temp_dir {
 public:
  explicit temp_dir(std::string_view prefix = "tocsin-test");
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  temp_dir(temp_dir&& other) noexcept;
  temp_dir& operator=(temp_dir&& other) noexcept;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(std::string_view name) const {
    return path_ / name;
  }

  // Writes `content` to path()/name, creating parent directories; returns the full path.
  std::filesystem::path write_file(std::string_view name, std::string_view content) const;

 private:
  void remove();

  std::filesystem::path path_;
};

}  // namespace tocsin::test
