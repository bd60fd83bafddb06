#pragma once
// Pieces the router's Kafka clients share (alert_consumer, partition_owner, state_publisher).

#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/metrics.hpp"

namespace tocsin::kafka {

// Owns the TopicPartition objects of a list (librdkafka's C++ API hands out raw pointers).
struct partition_list {
  std::vector<RdKafka::TopicPartition*> items;
  partition_list() = default;
  partition_list(const partition_list&) = delete;
  partition_list& operator=(const partition_list&) = delete;
  ~partition_list() { RdKafka::TopicPartition::destroy(items); }
  void add(const std::string& topic, std::int32_t partition, std::int64_t offset) {
    items.push_back(RdKafka::TopicPartition::create(topic, partition, offset));
  }
};

inline std::string_view payload_of(const RdKafka::Message& message) {
  if (message.payload() == nullptr) return {};
  return {static_cast<const char*>(message.payload()), message.len()};
}

inline std::string_view key_of(const RdKafka::Message& message) {
  const std::string* key = message.key();
  return key != nullptr ? std::string_view(*key) : std::string_view();
}

// Consumer-level errors that are not worth a word: nothing arrived in time, end of a partition.
inline bool is_quiet(RdKafka::ErrorCode err) {
  return err == RdKafka::ERR_NO_ERROR || err == RdKafka::ERR__TIMED_OUT ||
         err == RdKafka::ERR__PARTITION_EOF;
}

// Client errors, counted in tocsin_bus_errors_total{reason} and logged at most every 10 s per
// error code. Not thread-safe: one thread, or the owner's lock.
class client_errors {
 public:
  client_errors(std::string client, metrics_registry& metrics)
      : client_(std::move(client)), metrics_(metrics) {}
  void count(RdKafka::ErrorCode err, const std::string& what);

 private:
  struct entry {
    counter* count = nullptr;
    std::chrono::steady_clock::time_point last_logged{};
    bool logged = false;
  };
  std::string client_;
  metrics_registry& metrics_;
  std::map<RdKafka::ErrorCode, entry> errors_;
};

}  // namespace tocsin::kafka
