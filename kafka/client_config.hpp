#pragma once
// librdkafka settings for tocsin's Kafka clients: our defaults, then `bus.kafka.brokers`, then
// every `bus.kafka.properties` entry (the operator's word wins, so SASL/TLS/timeouts pass through),
// except partition.assignment.strategy of the routers' group, which stays "range" (eager).

#include <librdkafka/rdkafkacpp.h>

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace tocsin::kafka {

// The `tocsin-schema` header of every alert record: the version of its Alert JSON (DESIGN.md),
// so a later format can be told apart. Silence, notification-log and hits records carry "v".
inline constexpr const char* alert_schema_version = "1";

enum class client_role {
  alert_producer,  // idempotent, acks=all, small linger, compressed
  log_producer,    // the raw-log output: throughput over latency
  state_producer,  // cluster state (silences, nflog, hits, a router's alerts): idempotent, no
                   // linger
  reader,          // the router reading every partition of alerts and silences: no group
  group_member,    // the router's membership of bus.kafka.group on the notification log
  admin,           // creating and checking topics at start
};

// The settings a client of `role` gets, in the order they are applied.
std::vector<std::pair<std::string, std::string>> client_settings(const config::kafka_config& kafka,
                                                                 client_role role);

// Thrown when librdkafka rejects a setting; each message is `FILE:LINE:COL: ...` where known.
class client_config_error : public std::runtime_error {
 public:
  explicit client_config_error(std::vector<std::string> errors);
  [[nodiscard]] const std::vector<std::string>& errors() const { return errors_; }

 private:
  std::vector<std::string> errors_;
};

// A Conf with client_settings(kafka, role) applied. Throws client_config_error naming every
// rejected property (callbacks are set by the caller afterwards).
std::unique_ptr<RdKafka::Conf> make_conf(const config::kafka_config& kafka, client_role role);

// check-config: every property librdkafka rejects for any role, as
// `FILE:LINE:COL: bus.kafka.properties.NAME: <librdkafka's message>`. Empty when all are valid.
std::vector<std::string> validate(const config::kafka_config& kafka);

// librdkafka's logs and errors, sent to spdlog as "kafka: <client>: ...". Set it on a Conf as
// "event_cb"; it must outlive the client. `on_fatal` runs (on the thread that polls) when the
// client reports a fatal error, after it has been logged.
class log_events final : public RdKafka::EventCb {
 public:
  explicit log_events(std::string client, std::function<void()> on_fatal = {});
  void event_cb(RdKafka::Event& event) override;

 private:
  std::string client_;
  std::function<void()> on_fatal_;
};

// librdkafka's delivery reports, each handed to `on_report` (on the thread that polls or
// flushes). Set it on a Conf as "dr_cb"; it must outlive the client.
class delivery_reports final : public RdKafka::DeliveryReportCb {
 public:
  explicit delivery_reports(std::function<void(RdKafka::Message&)> on_report)
      : on_report_(std::move(on_report)) {}
  void dr_cb(RdKafka::Message& message) override { on_report_(message); }

 private:
  std::function<void(RdKafka::Message&)> on_report_;
};

// librdkafka's name for an error, lower-cased without leading underscores, for a metric label:
// ERR__QUEUE_FULL → "queue_full", ERR__MSG_TIMED_OUT → "msg_timed_out".
std::string error_label(RdKafka::ErrorCode err);

}  // namespace tocsin::kafka
