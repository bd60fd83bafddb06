#pragma once
// The router half of a daemon: alerts from the bus → the alert router → the receivers.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bus/alert_bus.hpp"
#include "config/config.hpp"
#include "core/metrics.hpp"
#include "rules/engine.hpp"
#include "sinks/alert_router.hpp"
#include "sinks/notifier.hpp"

namespace tocsin::bus {
class embedded_bus;
}
namespace tocsin::kafka {
class alert_consumer;
class partition_owner;
class state_publisher;
struct partition_owner_options;
}  // namespace tocsin::kafka

namespace tocsin::pipeline {

// The router half. Its alerts arrive on the end of the bus it owns: the embedded bus, an
// in-process queue a collector half of the same process publishes on, or with bus.type kafka
// the whole cluster's alerts and silences (DESIGN.md "Scale-out"): this router sends only the
// groups whose notification-log partition it owns in the consumer group `bus.kafka.group`, and
// publishes its silences and what it sent. Routes, inhibit rules and receivers follow reloads;
// the bus and data_dir are fixed for its life.
class router_pipeline {
 public:
  // Opens router.db in `startup.data_dir` and builds the routes and receivers; with a Kafka bus
  // it creates or checks the topics. Nothing runs until start(). Throws config::config_error,
  // std::runtime_error (an unusable data_dir, Kafka unreachable, a topic with the wrong
  // policy), or kafka::client_config_error. `metrics` must outlive it.
  // `rules`: with a Kafka bus, the router evaluates their cluster-scoped windows for the hits
  // partitions it owns.
  router_pipeline(const config::config& startup, std::shared_ptr<const rules::compiled_rules> rules,
                  metrics_registry& metrics);
  ~router_pipeline();  // stop()
  router_pipeline(const router_pipeline&) = delete;
  router_pipeline& operator=(const router_pipeline&) = delete;

  // Where a collector half in this process publishes: the embedded bus; null with bus.type kafka.
  [[nodiscard]] bus::alert_bus* in_process_bus();
  // For the Alertmanager API.
  [[nodiscard]] sinks::alert_router& router() { return *router_; }
  // For the Alertmanager API: with a Kafka bus, publishes an alert posted to this router to the
  // alerts topic so every router has it; empty otherwise.
  [[nodiscard]] std::function<void(const rules::alert&)> alert_publisher();
  // For the on-call API: what the ack links in pages are signed with.
  [[nodiscard]] std::shared_ptr<const oncall::ack_signer> ack_signer() const { return ack_signer_; }

  // The router's ticks, then the Kafka consumers.
  void start();
  // Advances the cluster-wide rule windows to `now` and publishes what that emits. Call about
  // once a second.
  void tick(std::chrono::system_clock::time_point now);
  // Switches to `next`'s routes, inhibit rules, receivers and rules. Throws
  // config::config_error with nothing changed.
  void reload(const config::config& next, std::shared_ptr<const rules::compiled_rules> rules);
  // For a graceful shutdown, once nothing publishes any more: the alerts on the embedded bus are
  // handed to the router (those left at `deadline` are handed over by stop(), never dropped), the
  // Kafka readers stop, the receivers send what is due until `deadline`, then this router leaves
  // the consumer group so its groups move to the others at once. False when notifications were
  // still being sent at the deadline (router.db keeps them for the next start).
  bool drain(std::chrono::steady_clock::time_point deadline);
  // Ends the bus's thread, the router's ticks and the receiver workers; a collector half that
  // published on in_process_bus() must have stopped before. Idempotent.
  void stop();

  // "" when ready; else why not (for /readyz).
  [[nodiscard]] std::string not_ready_reason() const;

 private:
  class kafka_cluster;  // sinks::cluster_membership over the nflog owner and the publisher

  void publish_alerts(const std::vector<rules::alert>& alerts);
  // With a Kafka bus: tells the other routers this one's route tree, and compares theirs.
  void announce_routes();
  void compare_routes(std::string_view value);
  void on_hits_record(std::string_view value);
  kafka::partition_owner_options nflog_options();

  config::kafka_config kafka_;
  std::string node_name_;
  metrics_registry& metrics_;
  // Records of one cluster topic that could not be used: counted, logged at most every 10 s.
  // Each is touched by the one thread that reads its topic.
  class record_refusals {
   public:
    record_refusals(metrics_registry& metrics, std::string topic);
    void refuse(const std::string& problem);

   private:
    std::string topic_;
    counter& count_;
    std::chrono::steady_clock::time_point next_log_{};
  };
  record_refusals refused_nflog_, refused_silences_, refused_hits_, refused_oncall_;
  std::chrono::system_clock::time_point next_announcement_{};  // tick thread
  sinks::notifier_registry notifiers_;
  std::shared_ptr<const oncall::ack_signer> ack_signer_;
  // With a Kafka bus; declared before the router, which calls into them until it is gone.
  std::unique_ptr<kafka::state_publisher> publisher_;
  std::unique_ptr<kafka::partition_owner> nflog_;
  std::unique_ptr<kafka_cluster> cluster_;
  // Cluster-wide windows: the engine replays the hits of the partitions `hits_` owns.
  std::unique_ptr<rules::alert_engine> windows_;
  std::unique_ptr<kafka::partition_owner> hits_;
  std::unique_ptr<sinks::alert_router> router_;
  // One of the two, by bus.type; either calls router_->receive() on a thread of its own.
  std::unique_ptr<bus::embedded_bus> embedded_;
  std::unique_ptr<kafka::alert_consumer> consumer_;
};

}  // namespace tocsin::pipeline
