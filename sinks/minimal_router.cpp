#include "sinks/minimal_router.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace tocsin::sinks {

minimal_router::minimal_router(const config::config& cfg, metrics_registry& metrics) {
  if (!cfg.route) {
    discarded_ =
        &metrics.get_counter("tocsin_notifications_total", "Notifications by receiver and result.",
                             {{"receiver", "none"}, {"result", "discarded"}});
    return;
  }
  receiver_ = cfg.route->receiver;
  const auto result_counter = [&](const char* result) {
    return &metrics.get_counter("tocsin_notifications_total",
                                "Notifications by receiver and result.",
                                {{"receiver", receiver_}, {"result", result}});
  };
  delivered_ = result_counter("success");
  failed_ = result_counter("failed");
  discarded_ = result_counter("discarded");

  if (!cfg.route->routes.empty() || !cfg.inhibit_rules.empty()) {
    spdlog::warn(
        "router: child routes and inhibit_rules are not used yet; every alert goes to '{}'",
        receiver_);
  }
  for (const auto& r : cfg.receivers) {
    if (r.name != receiver_) continue;
    if (r.integration == "file") {
      file_path_ = r.settings.at("path");
      const auto parent = std::filesystem::path(file_path_).parent_path();
      std::error_code ec;
      if (!parent.empty()) std::filesystem::create_directories(parent, ec);
      file_ = std::fopen(file_path_.c_str(), "ae");
      if (file_ == nullptr) {
        throw std::runtime_error("receiver " + r.name + ": cannot open " + file_path_ + ": " +
                                 std::strerror(errno));
      }
      log_ = std::make_unique<notification_log>(cfg.data_dir / "router.db");
      duplicates_ = result_counter("duplicate");
    } else if (!r.integration.empty()) {
      spdlog::warn("router: receiver '{}' ({}) is not implemented yet; its alerts are discarded",
                   r.name, r.integration);
    }
  }
}

minimal_router::~minimal_router() {
  if (file_ != nullptr) std::fclose(file_);
}

void minimal_router::route(const rules::alert& a) {
  if (file_ == nullptr) {
    discarded_->inc();
    return;
  }
  if (!log_->is_news(receiver_, a)) {
    duplicates_->inc();
    return;
  }
  const std::string line = rules::to_json(a) + '\n';
  // One alert per write and a flush, so `tail -f` and tests see each alert as it is routed.
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    failed_->inc();
    spdlog::error("receiver {}: write to {} failed: {}", receiver_, file_path_,
                  std::strerror(errno));
    return;
  }
  log_->record(receiver_, a);
  delivered_->inc();
}

}  // namespace tocsin::sinks
