#pragma once
// The router's membership of the consumer group `bus.kafka.group` on the notification-log topic
// (DESIGN.md "Scale-out"). The group gives each partition to one router. That router reads the
// partition from the beginning (compacted: the latest notification state of each group whose
// key falls in it, see nflog_partition()) up to its end, handing each record to `on_record`,
// and only then owns it: sends those groups' notifications. A router that dies or stalls loses
// its partitions after session.timeout.ms (10 s). Nothing is committed: the whole partition is
// read on every assignment.

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
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

class nflog_member {
 public:
  using record_handler = std::function<void(std::string_view key, std::string_view value)>;

  // `partitions`: the topic's partition count (from ensure_topics()). Throws
  // client_config_error for rejected properties.
  nflog_member(const config::kafka_config& kafka, int partitions, record_handler on_record,
               metrics_registry& metrics);
  ~nflog_member();  // stop()
  nflog_member(const nflog_member&) = delete;
  nflog_member& operator=(const nflog_member&) = delete;

  void start();  // joins the group and consumes on its own thread
  void stop();   // leaves the group (its partitions move at once) and joins the thread

  // Whether this router owns the partition of `group_key` and has read it to its end.
  [[nodiscard]] bool owns(std::string_view group_key) const;
  // The partition records of `group_key` go to.
  [[nodiscard]] std::int32_t partition_of(std::string_view group_key) const;
  // An assignment arrived and every partition in it was read to its end (for /readyz).
  [[nodiscard]] bool ready() const;

 private:
  class rebalance;  // librdkafka's RebalanceCb → on_rebalance()

  void run();
  void on_rebalance(RdKafka::ErrorCode err, std::vector<RdKafka::TopicPartition*>& partitions);
  void reached_end(std::int32_t partition);

  const config::kafka_config kafka_;
  const int partitions_;
  const record_handler on_record_;
  gauge& owned_gauge_;
  std::unique_ptr<log_events> events_;
  std::unique_ptr<rebalance> rebalance_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  consumer_errors errors_;

  mutable std::mutex mutex_;
  std::set<std::int32_t> assigned_;  // by the group
  std::set<std::int32_t> owned_;     // assigned and read to the end
  bool ever_assigned_ = false;

  std::mutex lifecycle_mutex_;
  bool started_ = false;
  bool closed_ = false;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace tocsin::kafka
