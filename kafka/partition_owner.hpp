#pragma once
// The router's membership of the consumer group `bus.kafka.group` on one of the topics whose
// partitions routers share out (DESIGN.md "Scale-out"): the notification log and the hits of
// cluster-wide rule windows. The group gives each partition to one router. That router reads the
// partition (the notification log from its beginning: compacted, the latest state of each group
// whose key falls in it; hits from `replay` ago) up to its end, handing each record to
// `on_record`, and only then owns it: sends those groups' notifications, evaluates those windows.
// A router that dies or stalls loses its partitions after session.timeout.ms (10 s). Nothing is
// committed: a partition is read again on every assignment.

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "core/metrics.hpp"
#include "kafka/client_config.hpp"
#include "kafka/consumer_support.hpp"

namespace tocsin::kafka {

struct partition_owner_options {
  std::string topic;                    // "" = the notification log (bus.kafka.topics.nflog)
  std::chrono::milliseconds replay{0};  // 0 = from the beginning; else from this long ago
  // Gauge of the partitions owned.
  std::string owned_metric = "tocsin_nflog_partitions_owned";
  std::string owned_help =
      "Notification-log partitions this router owns: it sends the groups that hash to them.";
  // While this returns false (the router behind it is stuck), the owner stops polling: after
  // max.poll.interval.ms (30 s) the client leaves the group and the others take its partitions;
  // it rejoins once this is true again. Empty: always healthy.
  std::function<bool()> healthy;
  // Called on the consume thread whenever the assignment changes (partitions given or taken
  // away), before any record of a newly given partition. Must not throw.
  std::function<void()> on_assignment_change;
};

class partition_owner {
 public:
  using record_handler = std::function<void(std::string_view key, std::string_view value)>;

  // `partitions`: the topic's partition count (from ensure_topics()). Throws
  // client_config_error for rejected properties.
  partition_owner(const config::kafka_config& kafka, int partitions, record_handler on_record,
                  metrics_registry& metrics, partition_owner_options options = {});
  ~partition_owner();  // stop()
  partition_owner(const partition_owner&) = delete;
  partition_owner& operator=(const partition_owner&) = delete;

  void start();  // joins the group and consumes on its own thread
  void stop();   // leaves the group (its partitions move at once) and joins the thread

  // Whether this router owns the partition of `key` and has read it to its end.
  [[nodiscard]] bool owns(std::string_view key) const;
  // The partition records of `key` go to (FNV-1a, kafka/topics.hpp).
  [[nodiscard]] std::int32_t partition_of(std::string_view key) const;
  // An assignment arrived and every partition in it was read to its end (for /readyz).
  [[nodiscard]] bool ready() const;

 private:
  class rebalance;  // librdkafka's RebalanceCb → on_rebalance()

  void run();
  void on_rebalance(RdKafka::ErrorCode err, std::vector<RdKafka::TopicPartition*>& partitions);
  void set_start_offsets(std::vector<RdKafka::TopicPartition*>& partitions);
  void reached_end(std::int32_t partition);

  const config::kafka_config kafka_;
  const int partitions_;
  const record_handler on_record_;
  const partition_owner_options options_;
  gauge& owned_gauge_;
  std::unique_ptr<log_events> events_;
  std::unique_ptr<rebalance> rebalance_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  client_errors errors_;

  mutable std::mutex mutex_;
  std::set<std::int32_t> assigned_;  // by the group
  std::set<std::int32_t> owned_;     // assigned and read to the end
  bool ever_assigned_ = false;

  std::mutex lifecycle_mutex_;
  bool started_ = false;
  bool closed_ = false;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> polling_{true};  // false while `healthy` says the router is stuck
  std::thread thread_;
};

}  // namespace tocsin::kafka
