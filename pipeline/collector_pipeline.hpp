#pragma once
// The collector half of a daemon: inputs → decoders → the log outputs, and the rules → the bus.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "bus/alert_bus.hpp"
#include "collector/ingest_server.hpp"
#include "collector/switchable_sink.hpp"
#include "config/config.hpp"
#include "core/fd_budget.hpp"
#include "core/metrics.hpp"
#include "pipeline/log_outputs.hpp"
#include "rules/engine.hpp"
#include "rules/matcher.hpp"
#include "search/live_tail.hpp"

namespace tocsin::kafka {
class alert_producer;
class state_publisher;
}  // namespace tocsin::kafka

namespace tocsin::pipeline {

// The collector half. Its alerts leave on the bus: with bus.type kafka a producer it owns,
// otherwise the in-process bus of a router half in the same process. Inputs, limits and the bus
// are fixed for its life; rules and outputs follow reloads.
class collector_pipeline {
 public:
  // Builds the engine, the outputs and the bus producer; nothing is bound until start().
  // `startup` must outlive it (the ingest server keeps references into it), so must `metrics`,
  // `fds` (null: no descriptor budget) and `in_process_bus` (used unless bus.type is kafka).
  // Throws for a Kafka producer or output librdkafka refuses, an unusable spool, or (a logic
  // error) no `in_process_bus` without bus.type kafka.
  collector_pipeline(const config::config& startup,
                     std::shared_ptr<const rules::compiled_rules> rules,
                     bus::alert_bus* in_process_bus, metrics_registry& metrics, fd_budget* fds);
  ~collector_pipeline();  // stop()
  collector_pipeline(const collector_pipeline&) = delete;
  collector_pipeline& operator=(const collector_pipeline&) = delete;

  // Binds every input and starts the ingest shards. Throws std::runtime_error naming an input
  // that cannot bind.
  void start();
  // "name transport host:port" of every bound input.
  [[nodiscard]] std::vector<std::string> describe_bound() const;
  // What the shards hand every decoded event to: the outputs, and the rules when there are any.
  [[nodiscard]] collector::event_sink& sink() { return *sink_; }
  // The live tail hub (/api/v1/tail): every event passes it, whatever the outputs and rules.
  [[nodiscard]] search::live_tail& live_tail() { return *tail_; }

  // The rules' engine (GET /api/v1/rules reads what each rule did lately).
  [[nodiscard]] const rules::alert_engine& engine() const { return engine_; }

  // Advances the rules to `now` (windows close, absent rules fire, firing alerts are re-sent)
  // and publishes what that emits. Call about once a second, until drain().
  void tick(std::chrono::system_clock::time_point now);

  // A reload in two steps, so that everything that can fail is built before anything switches:
  // `next`'s outputs (reusing the running ones with the same key; throws for a Kafka output
  // librdkafka refuses), then the switch to them and to `rules`. Returns the number of rules.
  [[nodiscard]] std::vector<log_output> build_outputs(const config::config& next) const;
  std::size_t reload(std::shared_ptr<const rules::compiled_rules> rules,
                     std::vector<log_output> outputs);
  // SIGHUP: logrotate has moved the archive files.
  void reopen_archives() const;

  // For a graceful shutdown: the inputs stop (a RELP message being delivered is written first),
  // then the outputs write out what they hold, until `deadline`.
  void drain(std::chrono::steady_clock::time_point deadline);
  // Stops the inputs if drain() has not, then the Kafka producer delivers or spools the alerts
  // it holds (up to 5 s). Idempotent.
  void stop();

  // "" when ready; else why not (for /readyz).
  [[nodiscard]] std::string not_ready_reason() const;

 private:
  // The engine's hits of cluster-scoped windows since the last call, to the hits topic.
  void publish_hits();
  // A fanout of the running outputs, the live tail, and the rules when there are any
  // (`rule_count`: rules and log-derived metrics).
  std::shared_ptr<collector::event_sink> fanout(std::size_t rule_count);

  const config::config& startup_;
  metrics_registry& metrics_;
  fd_budget* const fds_;
  std::unique_ptr<kafka::alert_producer> producer_;  // bus.type kafka
  // bus.type kafka: the hits of cluster-scoped windows, once a second (tick()).
  std::unique_ptr<kafka::state_publisher> hits_publisher_;
  bus::alert_bus* bus_;  // producer_ or the in-process bus
  rules::alert_engine engine_;
  log_output_set outputs_;
  std::shared_ptr<search::live_tail> tail_;
  std::unique_ptr<collector::switchable_sink> sink_;
  std::unique_ptr<collector::ingest_server> ingest_;
};

}  // namespace tocsin::pipeline
