#include "tests/support/kafka_broker.hpp"

#include <librdkafka/rdkafka.h>

#include <memory>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "tests/support/process.hpp"

namespace tocsin::test {
namespace {

const std::filesystem::path script =
    std::filesystem::path(TOCSIN_SOURCE_DIR) / "scripts/kafka-broker";

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// A throwaway admin client and one admin request's result event.
class admin_client {
 public:
  explicit admin_client(const std::string& bootstraps) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps.c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (handle_ == nullptr) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(std::string("kafka admin: ") + err);
    }
    queue_ = rd_kafka_queue_new(handle_);
  }
  ~admin_client() {
    rd_kafka_queue_destroy(queue_);
    rd_kafka_destroy(handle_);
  }
  admin_client(const admin_client&) = delete;
  admin_client& operator=(const admin_client&) = delete;

  [[nodiscard]] rd_kafka_t* handle() const { return handle_; }
  [[nodiscard]] rd_kafka_queue_t* queue() const { return queue_; }
  // The next result event (30 s at most), owned by the caller.
  [[nodiscard]] std::unique_ptr<rd_kafka_event_t, void (*)(rd_kafka_event_t*)> result() const {
    rd_kafka_event_t* ev = rd_kafka_queue_poll(queue_, 30000);
    if (ev == nullptr) throw std::runtime_error("kafka admin: no answer within 30 s");
    return {ev, rd_kafka_event_destroy};
  }

 private:
  rd_kafka_t* handle_ = nullptr;
  rd_kafka_queue_t* queue_ = nullptr;
};

}  // namespace

kafka_broker::kafka_broker(int nodes) {
  const auto started =
      run_command({script.string(), "start", dir_.path().string(), std::to_string(nodes)}, {}, {},
                  std::chrono::minutes(3));
  if (started.exit_code != 0) {
    throw std::runtime_error("scripts/kafka-broker start failed (" +
                             std::to_string(started.exit_code) + "): " + started.stderr_text);
  }
  bootstraps_ = trimmed(started.stdout_text);
}

kafka_broker::~kafka_broker() {
  run_command({script.string(), "stop", dir_.path().string()}, {}, {}, std::chrono::seconds(30));
}

void kafka_broker::create_topic(const std::string& name, int partitions,
                                const std::string& cleanup_policy) const {
  admin_client admin(bootstraps_);
  char err[512];
  rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(name.c_str(), partitions, -1, err, sizeof err);
  if (topic == nullptr) throw std::runtime_error(std::string("kafka admin: ") + err);
  rd_kafka_NewTopic_set_config(topic, "cleanup.policy", cleanup_policy.c_str());
  rd_kafka_CreateTopics(admin.handle(), &topic, 1, nullptr, admin.queue());
  rd_kafka_NewTopic_destroy(topic);
  const auto ev = admin.result();
  std::size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
  if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR || n != 1 ||
      rd_kafka_topic_result_error(results[0]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("kafka admin: cannot create " + name + ": " +
                             (n == 1 && rd_kafka_topic_result_error_string(results[0]) != nullptr
                                  ? rd_kafka_topic_result_error_string(results[0])
                                  : rd_kafka_event_error_string(ev.get())));
  }
}

std::string kafka_broker::topic_config(const std::string& name, const std::string& key) const {
  admin_client admin(bootstraps_);
  rd_kafka_ConfigResource_t* resource =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str());
  rd_kafka_DescribeConfigs(admin.handle(), &resource, 1, nullptr, admin.queue());
  rd_kafka_ConfigResource_destroy(resource);
  const auto ev = admin.result();
  std::size_t n = 0;
  const rd_kafka_ConfigResource_t** resources = rd_kafka_DescribeConfigs_result_resources(
      rd_kafka_event_DescribeConfigs_result(ev.get()), &n);
  if (n != 1 || rd_kafka_ConfigResource_error(resources[0]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return "";
  }
  std::size_t entries = 0;
  const rd_kafka_ConfigEntry_t** configs = rd_kafka_ConfigResource_configs(resources[0], &entries);
  for (std::size_t i = 0; i < entries; ++i) {
    if (key == rd_kafka_ConfigEntry_name(configs[i])) {
      const char* value = rd_kafka_ConfigEntry_value(configs[i]);
      return value != nullptr ? value : "";
    }
  }
  return "";
}

}  // namespace tocsin::test
