// file: one Alert JSON line per alert of each notification, appended and flushed.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "sinks/notifier_factories.hpp"

namespace tocsin::sinks {
namespace {

class file_notifier final : public notifier {
 public:
  explicit file_notifier(const config::receiver_config& r) : path_(setting_or(r, "path")) {
    const auto parent = std::filesystem::path(path_).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    file_ = std::fopen(path_.c_str(), "ae");
    if (file_ == nullptr) {
      throw receiver_error(r, "cannot open " + path_ + ": " + std::strerror(errno));
    }
  }
  ~file_notifier() override { std::fclose(file_); }
  file_notifier(const file_notifier&) = delete;
  file_notifier& operator=(const file_notifier&) = delete;

  delivery_result send(const notification& n) override {
    std::string lines;
    for (const rules::alert& a : n.alerts) {
      lines += rules::to_json(a);
      lines += '\n';
    }
    // One write and a flush per notification, so `tail -f` and tests see it whole.
    if (std::fwrite(lines.data(), 1, lines.size(), file_) != lines.size() ||
        std::fflush(file_) != 0) {
      // A full disk may recover: retry rather than dead-letter.
      delivery_result r;
      r.result = delivery_result::outcome::retry;
      r.detail = "write to " + path_ + " failed: " + std::strerror(errno);
      std::clearerr(file_);
      return r;
    }
    return delivery_result::delivered();
  }

  // It is a record of what happened, so it keeps the resolutions too.
  [[nodiscard]] bool send_resolved_default() const override { return true; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace

std::unique_ptr<notifier> make_file_notifier(const config::receiver_config& receiver) {
  return std::make_unique<file_notifier>(receiver);
}

}  // namespace tocsin::sinks
