#include "tests/support/temp_dir.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "tests/support/files.hpp"

namespace tocsin::test {

temp_dir::temp_dir(std::string_view prefix) {
  std::string pattern = "/tmp/" + std::string(prefix) + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  path_ = pattern;
}

temp_dir::~temp_dir() { remove(); }

temp_dir::temp_dir(temp_dir&& other) noexcept : path_(std::exchange(other.path_, {})) {}

temp_dir& temp_dir::operator=(temp_dir&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::exchange(other.path_, {});
  }
  return *this;
}

void temp_dir::remove() {
  if (path_.empty()) return;
  if (std::getenv("TOCSIN_KEEP_TMP") != nullptr) {
    std::cerr << "TOCSIN_KEEP_TMP: keeping " << path_.string() << '\n';
  } else {
    std::error_code ec;  // a destructor must not throw; a leftover dir in /tmp is harmless
    std::filesystem::remove_all(path_, ec);
  }
  path_.clear();
}

std::filesystem::path temp_dir::write_file(std::string_view name, std::string_view content) const {
  const auto p = path_ / name;
  test::write_file(p, content);
  return p;
}

}  // namespace tocsin::test
