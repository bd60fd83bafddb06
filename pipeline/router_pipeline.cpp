#include "pipeline/router_pipeline.hpp"

#include <spdlog/spdlog.h>

#include "bus/embedded_bus.hpp"
#include "kafka/alert_consumer.hpp"

namespace tocsin::pipeline {

router_pipeline::router_pipeline(const config::config& startup, metrics_registry& metrics) {
  sinks::register_builtin_notifiers(notifiers_);
  sinks::router_options options;
  options.data_dir = startup.data_dir;
  if (startup.admin) options.external_url = "http://" + config::to_string(startup.admin->listen);
  router_ = std::make_unique<sinks::alert_router>(startup, notifiers_, metrics, options);
  const auto receive = [this](const rules::alert& a) { router_->receive(a); };
  if (startup.bus.type == "kafka") {
    consumer_ = std::make_unique<kafka::alert_consumer>(startup.bus.kafka, receive, metrics);
  } else {
    embedded_ = std::make_unique<bus::embedded_bus>(receive, metrics);
  }
}

router_pipeline::~router_pipeline() { stop(); }

bus::alert_bus* router_pipeline::in_process_bus() { return embedded_.get(); }

void router_pipeline::start() {
  router_->start();
  if (consumer_) consumer_->start();
}

void router_pipeline::reload(const config::config& next) { router_->reconfigure(next, notifiers_); }

bool router_pipeline::drain(std::chrono::steady_clock::time_point deadline) {
  if (embedded_ && !embedded_->drain(deadline)) {
    // Not dropped: stop() still hands every queued alert to the router (it only writes router.db).
    spdlog::warn(
        "shutdown: alerts still on the embedded bus at the deadline; the router takes "
        "them before exit");
  }
  if (consumer_) consumer_->stop();
  return router_->drain(deadline);
}

void router_pipeline::stop() {
  // The bus's thread calls into the router: it ends first.
  embedded_.reset();
  if (consumer_) consumer_->stop();
  router_->stop();
}

std::string router_pipeline::not_ready_reason() const {
  if (consumer_ && !consumer_->assigned()) return "no Kafka partitions assigned yet";
  return {};
}

}  // namespace tocsin::pipeline
