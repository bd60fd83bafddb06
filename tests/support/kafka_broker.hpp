#pragma once
// A real Apache Kafka cluster (KRaft) on loopback for the kafka-real tests, started and stopped
// by scripts/kafka-broker (whose jars scripts/test.sh resolved beforehand). librdkafka's mock
// cluster (kafka_mock.hpp) stays for fault injection.

#include <filesystem>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace tocsin::test {

class kafka_broker {
 public:
  // Starts `nodes` (1 or 3) combined broker+controller nodes on free 127.0.0.1 ports; throws
  // std::runtime_error with the script's output when the cluster does not come up.
  explicit kafka_broker(int nodes = 1);
  ~kafka_broker();  // stops every node
  kafka_broker(const kafka_broker&) = delete;
  kafka_broker& operator=(const kafka_broker&) = delete;

  // "127.0.0.1:PORT[,...]" for bootstrap.servers / kcat -b.
  [[nodiscard]] const std::string& bootstraps() const { return bootstraps_; }
  // Creates topic `name` (for a test that needs one before tocsin starts, or a wrong one);
  // throws std::runtime_error on failure.
  void create_topic(const std::string& name, int partitions,
                    const std::string& cleanup_policy = "delete") const;
  // The value of topic config `key` ("cleanup.policy"), "" when the topic does not exist.
  [[nodiscard]] std::string topic_config(const std::string& name, const std::string& key) const;

 private:
  temp_dir dir_{"tocsin-kafka"};
  std::string bootstraps_;
};

}  // namespace tocsin::test
