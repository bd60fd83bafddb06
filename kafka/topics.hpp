#pragma once
// The topics a Kafka-bus daemon needs (DESIGN.md "Scale-out"), made sure of at start: a missing
// topic is created with `bus.kafka.topics.*` (silences and the notification log compacted), and
// an existing one must have the cleanup policy tocsin relies on, else the daemon refuses to run.

#include <stdexcept>
#include <string>

#include "config/config.hpp"

namespace tocsin::kafka {

class topic_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What start learned of the topics.
struct topic_layout {
  int alerts_partitions = 0;
  int silences_partitions = 0;
  int nflog_partitions = 0;
  int hits_partitions = 0;
  int oncall_partitions = 0;
};

// Creates what is missing, checks what exists; waits up to `timeout_ms` per admin request.
// Throws topic_error naming the topic and what is wrong (a wrong cleanup.policy, the brokers
// unreachable, creation refused).
topic_layout ensure_topics(const config::kafka_config& kafka, int timeout_ms = 30000);

// The notification-log partition of `group_key`: the same on every router (FNV-1a of the key),
// so the router that owns that partition in the consumer group sends the group.
int nflog_partition(std::string_view group_key, int partitions);

}  // namespace tocsin::kafka
