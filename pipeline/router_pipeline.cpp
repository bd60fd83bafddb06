#include "pipeline/router_pipeline.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "bus/embedded_bus.hpp"
#include "kafka/alert_consumer.hpp"
#include "kafka/partition_owner.hpp"
#include "kafka/state_publisher.hpp"
#include "kafka/topics.hpp"
#include "pipeline/oncall_secrets.hpp"
#include "sinks/cluster.hpp"

namespace tocsin::pipeline {

class router_pipeline::kafka_cluster final : public sinks::cluster_membership {
 public:
  kafka_cluster(kafka::partition_owner& member, kafka::state_publisher& publisher,
                std::string topic)
      : member_(member), publisher_(publisher), topic_(std::move(topic)) {}

  [[nodiscard]] bool sends(const std::string& group_key) const override {
    return member_.owns(group_key);
  }
  void sent(const sinks::nflog_record& record) override {
    publisher_.publish(topic_, member_.partition_of(record.group_key), record.group_key,
                       sinks::to_record(record));
  }
  // A tombstone: compaction then removes the group's records from the topic.
  void forgot(const std::string& group_key) override {
    publisher_.publish(topic_, member_.partition_of(group_key), group_key, {});
  }

 private:
  kafka::partition_owner& member_;
  kafka::state_publisher& publisher_;
  std::string topic_;
};

router_pipeline::router_pipeline(const config::config& startup,
                                 std::shared_ptr<const rules::compiled_rules> rules,
                                 metrics_registry& metrics)
    : kafka_(startup.bus.kafka),
      node_name_(startup.node_name),
      metrics_(metrics),
      refused_nflog_(metrics, "nflog"),
      refused_silences_(metrics, "silences"),
      refused_hits_(metrics, "hits"),
      refused_oncall_(metrics, "oncall") {
  sinks::register_builtin_notifiers(notifiers_);
  sinks::router_options options;
  options.data_dir = startup.data_dir;
  options.resolve_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(startup.global->resolve_timeout);
  if (startup.admin) {
    options.external_url = startup.admin->external_url.empty()
                               ? (startup.admin->tls ? "https://" : "http://") +
                                     config::to_string(startup.admin->listen)
                               : startup.admin->external_url;
  }
  ack_signer_ = make_ack_signer(startup);
  options.ack_signer = ack_signer_;
  const bool on_kafka = startup.bus.type == "kafka";
  int oncall_partitions = 0;
  if (on_kafka) {
    const kafka::topic_layout layout = kafka::ensure_topics(kafka_);
    oncall_partitions = layout.oncall_partitions;
    publisher_ = std::make_unique<kafka::state_publisher>(kafka_, metrics, startup.node_name);
    nflog_ = std::make_unique<kafka::partition_owner>(
        kafka_, layout.nflog_partitions,
        [this](std::string_view /*key*/, std::string_view value) {
          if (value.empty()) return;  // a tombstone of a group forgotten
          std::string problem;
          if (auto record = sinks::nflog_from_record(value, &problem)) {
            router_->apply_nflog(*record);
          } else {
            refused_nflog_.refuse(problem);
          }
        },
        metrics, nflog_options());
    cluster_ = std::make_unique<kafka_cluster>(*nflog_, *publisher_, kafka_.nflog_topic.name);
    options.cluster = cluster_.get();

    rules::engine_options engine_options;
    engine_options.generator_url = "tocsin://" + startup.node_name + "/rules/";
    // The cluster's new_term terms, apart from a collector's own (scope: node) on this node.
    engine_options.state_dir = startup.data_dir / "rules-cluster";
    // Collectors publish once a second: give every collector's part of a second time to arrive.
    engine_options.window_lag = std::chrono::seconds(2);
    engine_options.expose_log_metrics = false;  // the collector's engine matches the events
    windows_ = std::make_unique<rules::alert_engine>(std::move(rules), metrics, engine_options);
    kafka::partition_owner_options hits_options;
    hits_options.topic = kafka_.hits_topic.name;
    hits_options.replay = kafka_.rebuild_window;
    hits_options.owned_metric = "tocsin_hits_partitions_owned";
    hits_options.owned_help =
        "Hits partitions this router owns: it evaluates the cluster-wide windows in them.";
    // Partitions that change hands are replayed from rebuild_window ago into empty windows, so
    // no match counts twice and no window goes on without its hits.
    hits_options.on_assignment_change = [this] { windows_->forget_state(); };
    hits_ = std::make_unique<kafka::partition_owner>(
        kafka_, layout.hits_partitions,
        [this](std::string_view /*key*/, std::string_view value) { on_hits_record(value); },
        metrics, std::move(hits_options));
  }
  router_ = std::make_unique<sinks::alert_router>(startup, notifiers_, metrics, options);
  const auto receive = [this](const rules::alert& a) { router_->receive(a); };
  if (!on_kafka) {
    embedded_ = std::make_unique<bus::embedded_bus>(receive, metrics);
    return;
  }
  router_->silences().on_change([this](const sinks::silence& s) {
    publisher_->publish(kafka_.silences_topic.name, -1, s.id, sinks::to_record(s));
  });
  router_->oncall().on_change([this, partitions = oncall_partitions](
                                  const sinks::escalation_key& key,
                                  const std::optional<oncall::escalation>& e) {
    publisher_->publish(kafka_.oncall_topic.name, kafka::nflog_partition(key.second, partitions),
                        sinks::escalation_record_key(key), e ? oncall::to_json(*e).dump() : "");
  });
  kafka::alert_consumer::handlers on;
  on.on_alert = receive;
  on.on_silence = [this](std::string_view key, std::string_view value) {
    if (value.empty()) return;  // a tombstone
    if (key.substr(0, sinks::router_record_prefix.size()) == sinks::router_record_prefix) {
      compare_routes(value);
      return;
    }
    std::string problem;
    if (auto s = sinks::silence_from_record(value, &problem)) {
      router_->silences().apply(*s);
    } else {
      refused_silences_.refuse(problem);
    }
  };
  on.on_oncall = [this](std::string_view key, std::string_view value) {
    const auto escalation_key = sinks::escalation_key_from_record(key);
    if (!escalation_key) return refused_oncall_.refuse("a key without a receiver");
    if (value.empty()) return router_->oncall().apply(*escalation_key, std::nullopt);
    const auto j = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
    if (auto e = oncall::escalation_from_json(j)) {
      router_->oncall().apply(*escalation_key, e);
    } else {
      refused_oncall_.refuse("not an escalation (version 1)");
    }
  };
  consumer_ = std::make_unique<kafka::alert_consumer>(kafka_, std::move(on), metrics);
}

router_pipeline::record_refusals::record_refusals(metrics_registry& metrics, std::string topic)
    : topic_(std::move(topic)),
      count_(metrics.get_counter("tocsin_cluster_records_refused_total",
                                 "Cluster-state records a router could not use, by topic.",
                                 {{"topic", topic_}})) {}

void router_pipeline::record_refusals::refuse(const std::string& problem) {
  count_.inc();
  if (const auto now = std::chrono::steady_clock::now(); now >= next_log_) {
    spdlog::error("router: skipping a {} record ({} so far): {}", topic_, count_.value(), problem);
    next_log_ = now + std::chrono::seconds(10);
  }
}

// The notification log's owner polls only while the router ticks: a router stuck for 15 s (a
// disk that hangs under router.db) stops polling and so gives its groups to the others.
kafka::partition_owner_options router_pipeline::nflog_options() {
  kafka::partition_owner_options options;
  options.healthy = [this] {
    return std::chrono::steady_clock::now() - router_->last_tick() < std::chrono::seconds(15);
  };
  return options;
}

router_pipeline::~router_pipeline() { stop(); }

bus::alert_bus* router_pipeline::in_process_bus() { return embedded_.get(); }

std::function<void(const rules::alert&)> router_pipeline::alert_publisher() {
  if (!publisher_) return {};
  return [this](const rules::alert& a) { publish_alerts({a}); };
}

// To the alerts topic, where every router (this one too) reads them.
void router_pipeline::publish_alerts(const std::vector<rules::alert>& alerts) {
  for (const rules::alert& a : alerts) {
    publisher_->publish_alert(kafka_.topic, a.fingerprint, rules::to_json(a));
  }
}

void router_pipeline::announce_routes() {
  if (!publisher_) return;
  const sinks::router_record me{node_name_, router_->route_fingerprint(),
                                std::chrono::system_clock::now()};
  publisher_->publish(kafka_.silences_topic.name, -1,
                      std::string(sinks::router_record_prefix) + node_name_, sinks::to_record(me));
}

// Another router's announcement: a route tree unlike ours means the routers would route the
// same alert differently, depending on which one owns its group.
void router_pipeline::compare_routes(std::string_view value) {
  std::string problem;
  const auto other = sinks::router_from_record(value, &problem);
  if (!other) {
    refused_silences_.refuse(problem);
    return;
  }
  // Announcements are refreshed every 5 minutes and on each reload; an hour-old one is a router
  // gone.
  if (other->node == node_name_ ||
      std::chrono::system_clock::now() - other->at > std::chrono::hours(1)) {
    return;
  }
  const std::string mine = router_->route_fingerprint();
  gauge& differs = metrics_.get_gauge("tocsin_cluster_routes_differ",
                                      "1 when this router's route tree differs from that router's.",
                                      {{"node", other->node}});
  const bool different = other->routes != mine;
  if (different && differs.value() == 0) {
    spdlog::warn(
        "router: the route tree of router {} ({}) differs from this one's ({}): alerts are "
        "routed by whichever router owns their group; give every router the same route",
        other->node, other->routes, mine);
  }
  differs.set(different ? 1 : 0);
}

void router_pipeline::start() {
  router_->start();
  if (consumer_) consumer_->start();
  if (nflog_) nflog_->start();
  if (hits_) hits_->start();
}

void router_pipeline::on_hits_record(std::string_view value) {
  std::string problem;
  auto hits = rules::hits_from_record(value, &problem);
  if (hits) {
    // A collector whose clock runs ahead would drag the windows' time with it.
    const auto latest = std::chrono::duration_cast<std::chrono::seconds>(
        (std::chrono::system_clock::now() + std::chrono::minutes(5)).time_since_epoch());
    if (rules::latest_second(*hits) > latest.count()) {
      hits.reset();
      problem = "a second more than 5 minutes ahead of this router's clock";
    }
  }
  if (!hits) {
    refused_hits_.refuse(problem);
    return;
  }
  std::vector<rules::alert> alerts;
  windows_->on_hits(*hits, alerts);
  // While a new assignment is replayed the windows are incomplete: what they would emit then is
  // either stale or emitted again (firing alerts are re-sent every minute) once they are whole.
  if (hits_->ready()) publish_alerts(alerts);
}

void router_pipeline::tick(std::chrono::system_clock::time_point now) {
  if (!windows_) return;
  std::vector<rules::alert> alerts;
  windows_->tick(now, alerts);
  if (hits_->ready()) publish_alerts(alerts);
  if (now >= next_announcement_) {
    announce_routes();
    next_announcement_ = now + std::chrono::minutes(5);
  }
}

void router_pipeline::reload(const config::config& next,
                             std::shared_ptr<const rules::compiled_rules> rules) {
  router_->reconfigure(next, notifiers_);
  announce_routes();
  if (windows_) windows_->replace_rules(std::move(rules));
}

bool router_pipeline::drain(std::chrono::steady_clock::time_point deadline) {
  if (embedded_ && !embedded_->drain(deadline)) {
    // Not dropped: stop() still hands every queued alert to the router (it only writes router.db).
    spdlog::warn(
        "shutdown: alerts still on the embedded bus at the deadline; the router takes "
        "them before exit");
  }
  if (consumer_) consumer_->stop();
  if (hits_) hits_->stop();
  const bool sent = router_->drain(deadline);
  // Leaving the group hands this router's groups to the others at once, not after a timeout.
  if (nflog_) nflog_->stop();
  return sent;
}

void router_pipeline::stop() {
  // The bus's thread calls into the router: it ends first.
  embedded_.reset();
  if (consumer_) consumer_->stop();
  if (hits_) hits_->stop();
  if (nflog_) nflog_->stop();
  router_->stop();
}

std::string router_pipeline::not_ready_reason() const {
  if (consumer_ && !consumer_->caught_up()) return "reading the cluster's alerts and silences";
  if (nflog_ && !nflog_->ready()) return "reading the notification log of this router's groups";
  if (hits_ && !hits_->ready()) return "reading the hits of this router's rule windows";
  return {};
}

}  // namespace tocsin::pipeline
