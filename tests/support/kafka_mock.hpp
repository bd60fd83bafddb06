#pragma once
// A real Kafka-protocol broker on loopback for tests (librdkafka's mock cluster), and reading a
// topic back with kcat, so tests check what a Kafka client actually sees.

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

struct rd_kafka_mock_cluster_s;

namespace tocsin::test {

using namespace std::chrono_literals;

// `brokers` mock brokers (ids 1..brokers) listening on 127.0.0.1, alive as long as the object.
// Topics are created with replication factor 1. Throws std::runtime_error when librdkafka cannot
// create the cluster.
class mock_kafka_cluster {
 public:
  explicit mock_kafka_cluster(int brokers = 1);
  ~mock_kafka_cluster();
  mock_kafka_cluster(const mock_kafka_cluster&) = delete;
  mock_kafka_cluster& operator=(const mock_kafka_cluster&) = delete;

  // "127.0.0.1:PORT[,...]" for bootstrap.servers / kcat -b.
  [[nodiscard]] const std::string& bootstraps() const { return bootstraps_; }
  void create_topic(const std::string& name, int partitions);
  // Down: the broker drops its connections and refuses new ones, until set_up().
  void set_down(int broker_id);
  void set_up(int broker_id);
  // The next requests of Kafka API `api_key` (8 OffsetCommit, 9 OffsetFetch, ...), from any
  // client, are answered with these rd_kafka_resp_err_t codes, one request each, in order.
  void push_request_errors(int api_key, const std::vector<int>& errors);
  // The next Produce request fails with `error`, whichever broker gets it.
  void fail_next_produce(rd_kafka_resp_err_t error);

 private:
  rd_kafka_t* handle_ = nullptr;  // the throwaway client that owns the cluster
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  std::string bootstraps_;
};

struct kafka_record {
  int partition = -1;
  long long offset = -1;
  std::string key;    // "" for a null key
  std::string value;  // "" for a null payload
  std::map<std::string, std::string> headers;
};

// Every record of `topic` from the beginning to the current end (kcat -C -e -J), in kcat's order
// (per partition by offset). Throws std::runtime_error when kcat fails or prints something else.
std::vector<kafka_record> kcat_read(const std::string& bootstraps, const std::string& topic,
                                    std::chrono::milliseconds timeout = 30s);

}  // namespace tocsin::test
