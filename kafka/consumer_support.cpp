#include "kafka/consumer_support.hpp"

#include <spdlog/spdlog.h>

#include "kafka/client_config.hpp"

namespace tocsin::kafka {

namespace {
constexpr auto error_log_interval = std::chrono::seconds(10);  // per error code
}  // namespace

void client_errors::count(RdKafka::ErrorCode err, const std::string& what) {
  entry& e = errors_[err];
  if (e.count == nullptr) {
    e.count = &metrics_.get_counter("tocsin_bus_errors_total", "Alerts the bus failed to carry.",
                                    {{"reason", error_label(err)}});
  }
  e.count->inc();
  const auto now = std::chrono::steady_clock::now();
  if (!e.logged || now - e.last_logged >= error_log_interval) {
    spdlog::warn("kafka: {}: {} ({} time(s) so far)", client_, what, e.count->value());
    e.logged = true;
    e.last_logged = now;
  }
}

}  // namespace tocsin::kafka
