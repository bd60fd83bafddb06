// file: one Alert JSON line per alert of each notification, appended and flushed.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sinks/notifier_factories.hpp"

namespace tocsin::sinks {
namespace {

// Why `path` could not be created or appended to, "" when it could. An existing file is
// opened for append (which changes nothing); otherwise a probe file is created and removed in
// the nearest existing directory above it (permission bits alone say little to root).
std::string unwritable_reason(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    if (!std::filesystem::is_regular_file(path, ec)) return "it is not a regular file";
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return std::strerror(errno);
    ::close(fd);
    return {};
  }
  std::filesystem::path dir = path.parent_path();
  while (!dir.empty() && !std::filesystem::exists(dir, ec)) dir = dir.parent_path();
  if (dir.empty()) dir = ".";
  if (!std::filesystem::is_directory(dir, ec)) return dir.string() + " is not a directory";
  std::string probe = (dir / ".tocsin-check-XXXXXX").string();
  const int fd = ::mkstemp(probe.data());
  if (fd < 0) return dir.string() + ": " + std::strerror(errno);
  ::close(fd);
  ::unlink(probe.c_str());
  return {};
}

constexpr std::string_view setting_keys[] = {"path", "send_resolved"};
constexpr std::string_view required_keys[] = {"path"};

class file_notifier final : public notifier {
 public:
  file_notifier(std::string path, bool send_resolved)
      : notifier(send_resolved), path_(std::move(path)) {}
  ~file_notifier() override {
    if (file_ != nullptr) std::fclose(file_);
  }
  file_notifier(const file_notifier&) = delete;
  file_notifier& operator=(const file_notifier&) = delete;

  delivery_result send(const notification& n) override {
    if (file_ == nullptr && !open()) return failed_write("open");
    std::string lines;
    for (const rules::alert& a : n.alerts) {
      lines += rules::to_json(a);
      lines += '\n';
    }
    // The stream is unbuffered: one write per notification, so `tail -f` and tests see it
    // whole. A write the disk cuts short is taken back to where it started, else the torn line
    // would glue itself to the first line of the retry.
    struct stat before {};
    const bool sized = ::fstat(::fileno(file_), &before) == 0;
    if (std::fwrite(lines.data(), 1, lines.size(), file_) != lines.size()) {
      const int error = errno;
      std::clearerr(file_);
      if (sized) (void)::ftruncate(::fileno(file_), before.st_size);
      errno = error;
      return failed_write("write to");
    }
    return delivery_result::delivered();
  }

 private:
  bool open() {
    const auto parent = std::filesystem::path(path_).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    file_ = std::fopen(path_.c_str(), "ae");
    if (file_ != nullptr) std::setvbuf(file_, nullptr, _IONBF, 0);  // nothing held back on error
    return file_ != nullptr;
  }

  // A full disk or a directory fixed later may recover: retry rather than dead-letter.
  [[nodiscard]] delivery_result failed_write(const char* what) const {
    delivery_result r;
    r.result = delivery_result::outcome::retry;
    r.detail = std::string(what) + " " + path_ + " failed: " + std::strerror(errno);
    return r;
  }

  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace

std::unique_ptr<notifier> make_file_notifier(const config::receiver_config& receiver) {
  config::section_reader in(receiver, setting_keys);
  in.require(required_keys);
  const auto path = in.text("path");
  // Only checks that the file could be written, so `check-config` (a dry run of construction)
  // creates nothing; the file and its directories are made at the first notification.
  if (path) {
    if (const std::string problem = unwritable_reason(*path); !problem.empty()) {
      in.error("path", "cannot write " + *path + ": " + problem);
    }
  }
  // It is a record of what happened, so it keeps the resolutions too.
  const bool send_resolved = in.flag("send_resolved").value_or(true);
  in.check();
  return std::make_unique<file_notifier>(*path, send_resolved);
}

}  // namespace tocsin::sinks
