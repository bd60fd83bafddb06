#include "pipeline/collector_pipeline.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <utility>

#include "kafka/alert_producer.hpp"
#include "kafka/state_publisher.hpp"
#include "pipeline/alerting_sink.hpp"

namespace tocsin::pipeline {
namespace {

std::unique_ptr<kafka::alert_producer> make_producer(const config::config& cfg,
                                                     metrics_registry& metrics) {
  if (cfg.bus.type != "kafka") return nullptr;
  kafka::alert_producer_options options;
  options.node_name = cfg.node_name;
  options.spool_dir = cfg.data_dir / "spool";
  return std::make_unique<kafka::alert_producer>(cfg.bus.kafka, options, metrics);
}

rules::engine_options engine_options_for(const config::config& cfg) {
  rules::engine_options options;
  options.generator_url = "tocsin://" + cfg.node_name + "/rules/";
  // With a Kafka bus the routers evaluate cluster-scoped windows from every collector's hits.
  options.cluster_windows = cfg.bus.type == "kafka";
  options.node_name = cfg.node_name;
  options.state_dir = cfg.data_dir / "rules";  // new_term rules' terms
  return options;
}

}  // namespace

collector_pipeline::collector_pipeline(const config::config& startup,
                                       std::shared_ptr<const rules::compiled_rules> rules,
                                       bus::alert_bus* in_process_bus, metrics_registry& metrics,
                                       fd_budget* fds)
    : startup_(startup),
      metrics_(metrics),
      fds_(fds),
      producer_(make_producer(startup, metrics)),
      hits_publisher_(startup.bus.type == "kafka"
                          ? std::make_unique<kafka::state_publisher>(startup.bus.kafka, metrics,
                                                                     startup.node_name)
                          : nullptr),
      bus_(producer_ ? producer_.get() : in_process_bus),
      engine_(std::move(rules), metrics, engine_options_for(startup)),
      outputs_(startup.bus.kafka, metrics, fds),
      tail_(std::make_shared<search::live_tail>(metrics)) {
  if (bus_ == nullptr) {
    throw std::logic_error("the embedded bus takes a router half in the same process");
  }
  const std::size_t rule_count = engine_.rules()->definitions().size();
  const std::size_t metric_count = engine_.rules()->metric_definitions().size();
  spdlog::info("{} rules and {} metrics loaded", rule_count, metric_count);
  outputs_.replace(outputs_.build(startup));
  sink_ = std::make_unique<collector::switchable_sink>(fanout(rule_count + metric_count));
}

collector_pipeline::~collector_pipeline() { stop(); }

void collector_pipeline::start() {
  ingest_ = std::make_unique<collector::ingest_server>(startup_, *sink_, metrics_, 0, fds_);
  ingest_->start();
}

std::vector<std::string> collector_pipeline::describe_bound() const {
  return ingest_ ? ingest_->describe_bound() : std::vector<std::string>{};
}

void collector_pipeline::tick(std::chrono::system_clock::time_point now) {
  if (bus_ == nullptr) return;  // stopped
  std::vector<rules::alert> alerts;
  engine_.tick(now, alerts);
  bus_->publish(std::move(alerts));
  publish_hits();
}

void collector_pipeline::publish_hits() {
  if (!hits_publisher_) return;
  for (const rules::hit_batch& hits : engine_.take_hits()) {
    hits_publisher_->publish(startup_.bus.kafka.hits_topic.name, -1, rules::hits_key(hits),
                             rules::to_record(hits));
  }
}

std::vector<log_output> collector_pipeline::build_outputs(const config::config& next) const {
  return outputs_.build(next);
}

std::size_t collector_pipeline::reload(std::shared_ptr<const rules::compiled_rules> rules,
                                       std::vector<log_output> outputs) {
  const std::size_t rule_count = rules->definitions().size();
  const std::size_t metric_count = rules->metric_definitions().size();
  engine_.replace_rules(std::move(rules));
  const std::vector<log_output> dropped = outputs_.replace(std::move(outputs));
  sink_->exchange(fanout(rule_count + metric_count));
  if (ingest_) ingest_->wait_for_shards();  // from here on no shard uses the previous sink
  for (const log_output& old : dropped) old.flush(std::chrono::seconds(5));
  sink_->forget_previous();  // written: an input that acknowledges need not wait for it
  return rule_count;
}

void collector_pipeline::reopen_archives() const { outputs_.reopen_archives(); }

void collector_pipeline::drain(std::chrono::steady_clock::time_point deadline) {
  if (ingest_) ingest_->stop();
  outputs_.flush(deadline);
}

void collector_pipeline::stop() {
  if (ingest_) ingest_->stop();
  bus_ = nullptr;
  producer_.reset();  // its destructor delivers or spools what it still holds
  publish_hits();     // the last second's, delivered by the publisher's destructor
  hits_publisher_.reset();
}

std::string collector_pipeline::not_ready_reason() const {
  if (producer_ && !producer_->connected()) {
    return "not connected to Kafka yet (alerts are spooled meanwhile)";
  }
  return {};
}

std::shared_ptr<collector::event_sink> collector_pipeline::fanout(std::size_t rule_count) {
  std::vector<std::shared_ptr<collector::event_sink>> sinks = outputs_.sinks();
  sinks.push_back(tail_);
  if (rule_count > 0) sinks.push_back(std::make_shared<alerting_sink>(engine_, *bus_));
  return std::make_shared<collector::fanout_sink>(std::move(sinks));
}

}  // namespace tocsin::pipeline
