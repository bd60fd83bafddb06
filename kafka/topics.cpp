#include "kafka/topics.hpp"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "kafka/client_config.hpp"

namespace tocsin::kafka {
namespace {

struct wanted_topic {
  const config::kafka_topic_config* settings;
  std::string name;
  std::string cleanup_policy;
  int* partitions;
};

using event_ptr = std::unique_ptr<rd_kafka_event_t, void (*)(rd_kafka_event_t*)>;

// A throwaway client for admin requests, with tocsin's settings and the operator's properties
// (SASL, TLS) so it reaches the brokers the way the real clients do.
class admin_client {
 public:
  explicit admin_client(const config::kafka_config& kafka) {
    auto conf = make_conf(kafka, client_role::admin);
    std::string errstr;
    conf->set("event_cb", static_cast<RdKafka::EventCb*>(&events_), errstr);
    producer_.reset(RdKafka::Producer::create(conf.get(), errstr));
    if (!producer_) throw topic_error("bus.kafka: cannot create an admin client: " + errstr);
    queue_ = rd_kafka_queue_new(handle());
  }
  ~admin_client() { rd_kafka_queue_destroy(queue_); }
  admin_client(const admin_client&) = delete;
  admin_client& operator=(const admin_client&) = delete;

  [[nodiscard]] rd_kafka_t* handle() const { return producer_->c_ptr(); }
  [[nodiscard]] rd_kafka_queue_t* queue() const { return queue_; }
  [[nodiscard]] event_ptr result(int timeout_ms, const std::string& what) const {
    rd_kafka_event_t* ev = rd_kafka_queue_poll(queue_, timeout_ms);
    if (ev == nullptr) {
      throw topic_error("bus.kafka: " + what + ": no answer from the brokers within " +
                        std::to_string(timeout_ms / 1000) + " s");
    }
    return {ev, rd_kafka_event_destroy};
  }

 private:
  log_events events_{"admin"};
  std::unique_ptr<RdKafka::Producer> producer_;
  rd_kafka_queue_t* queue_ = nullptr;
};

// Partition counts of the topics that exist (0 for absent ones). False when a partition has no
// leader yet (a topic created a moment ago).
bool read_partitions(const admin_client& admin, std::vector<wanted_topic>& topics, int timeout_ms) {
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(admin.handle(), 1, nullptr, &md, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw topic_error(std::string("bus.kafka: cannot read the brokers' metadata: ") +
                      rd_kafka_err2str(err));
  }
  bool led = true;
  for (wanted_topic& t : topics) {
    *t.partitions = 0;
    for (int i = 0; i < md->topic_cnt; ++i) {
      if (t.name != md->topics[i].topic || md->topics[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        continue;
      }
      *t.partitions = md->topics[i].partition_cnt;
      for (int p = 0; p < md->topics[i].partition_cnt; ++p) {
        led = led && md->topics[i].partitions[p].leader >= 0;
      }
    }
  }
  rd_kafka_metadata_destroy(md);
  return led;
}

void create(const admin_client& admin, const std::vector<wanted_topic*>& missing, int timeout_ms) {
  std::vector<rd_kafka_NewTopic_t*> requests;
  requests.reserve(missing.size());
  char errstr[512];
  for (const wanted_topic* t : missing) {
    rd_kafka_NewTopic_t* nt =
        rd_kafka_NewTopic_new(t->name.c_str(), t->settings->partitions,
                              t->settings->replication_factor, errstr, sizeof errstr);
    if (nt == nullptr) {
      rd_kafka_NewTopic_destroy_array(requests.data(), requests.size());
      throw topic_error("bus.kafka: topic " + t->name + ": " + errstr);
    }
    rd_kafka_NewTopic_set_config(nt, "cleanup.policy", t->cleanup_policy.c_str());
    if (t->cleanup_policy == "delete" && t->settings->retention.count() > 0) {
      const std::string ms = std::to_string(
          std::chrono::duration_cast<std::chrono::milliseconds>(t->settings->retention).count());
      rd_kafka_NewTopic_set_config(nt, "retention.ms", ms.c_str());
    }
    requests.push_back(nt);
  }
  rd_kafka_CreateTopics(admin.handle(), requests.data(), requests.size(), nullptr, admin.queue());
  rd_kafka_NewTopic_destroy_array(requests.data(), requests.size());
  const event_ptr ev = admin.result(timeout_ms, "creating topics");
  if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw topic_error(std::string("bus.kafka: creating topics: ") +
                      rd_kafka_event_error_string(ev.get()));
  }
  std::size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
  for (std::size_t i = 0; i < n; ++i) {
    const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    // Another daemon starting at the same time created it first: checked like any other.
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        spdlog::info("kafka: created topic {}", rd_kafka_topic_result_name(results[i]));
      }
      continue;
    }
    const char* why = rd_kafka_topic_result_error_string(results[i]);
    throw topic_error(std::string("bus.kafka: cannot create topic ") +
                      rd_kafka_topic_result_name(results[i]) + ": " +
                      (why != nullptr ? why : rd_kafka_err2str(err)));
  }
}

// A compacted topic that deletes by age (or the reverse) would lose silences or re-send
// notifications: refuse it.
void check_policies(const admin_client& admin, const std::vector<wanted_topic>& topics,
                    int timeout_ms) {
  std::vector<rd_kafka_ConfigResource_t*> resources;
  resources.reserve(topics.size());
  for (const wanted_topic& t : topics) {
    resources.push_back(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, t.name.c_str()));
  }
  rd_kafka_DescribeConfigs(admin.handle(), resources.data(), resources.size(), nullptr,
                           admin.queue());
  rd_kafka_ConfigResource_destroy_array(resources.data(), resources.size());
  const event_ptr ev = admin.result(timeout_ms, "reading topic settings");
  const rd_kafka_resp_err_t err = rd_kafka_event_error(ev.get());
  // Brokers that do not answer DescribeConfigs, or ACLs that forbid it: the policies cannot be
  // checked, which is no reason to stop; a policy seen to be wrong is. (librdkafka's mock
  // cluster, used by the fault-injection tests, has no controller to answer: a time-out.)
  if (err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE || err == RD_KAFKA_RESP_ERR__TIMED_OUT ||
      err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
      err == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED) {
    spdlog::warn("kafka: cannot check the topics' cleanup.policy: {}",
                 rd_kafka_event_error_string(ev.get()));
    return;
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw topic_error(std::string("bus.kafka: reading topic settings: ") +
                      rd_kafka_event_error_string(ev.get()));
  }
  std::size_t n = 0;
  const rd_kafka_ConfigResource_t** described = rd_kafka_DescribeConfigs_result_resources(
      rd_kafka_event_DescribeConfigs_result(ev.get()), &n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string name = rd_kafka_ConfigResource_name(described[i]);
    const wanted_topic* want = nullptr;
    for (const wanted_topic& t : topics) {
      if (t.name == name) want = &t;
    }
    if (want == nullptr) continue;
    const rd_kafka_resp_err_t resource_err = rd_kafka_ConfigResource_error(described[i]);
    if (resource_err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
      spdlog::warn("kafka: cannot check the cleanup.policy of topic {}: not authorized", name);
      continue;
    }
    if (resource_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw topic_error("bus.kafka: reading the settings of topic " + name + ": " +
                        rd_kafka_ConfigResource_error_string(described[i]));
    }
    std::size_t entries = 0;
    const rd_kafka_ConfigEntry_t** configs =
        rd_kafka_ConfigResource_configs(described[i], &entries);
    std::string policy = "delete";
    for (std::size_t j = 0; j < entries; ++j) {
      if (std::string_view(rd_kafka_ConfigEntry_name(configs[j])) == "cleanup.policy" &&
          rd_kafka_ConfigEntry_value(configs[j]) != nullptr) {
        policy = rd_kafka_ConfigEntry_value(configs[j]);
      }
    }
    if (policy != want->cleanup_policy) {
      throw topic_error("bus.kafka: topic " + name + " has cleanup.policy=" + policy +
                        ", tocsin needs " + want->cleanup_policy +
                        " (fix it with kafka-configs --alter, or name another topic in "
                        "bus.kafka.topics)");
    }
  }
}

}  // namespace

topic_layout ensure_topics(const config::kafka_config& kafka, int timeout_ms) {
  topic_layout layout;
  std::vector<wanted_topic> topics = {
      {&kafka.alerts_topic, kafka.topic, "delete", &layout.alerts_partitions},
      {&kafka.silences_topic, kafka.silences_topic.name, "compact", &layout.silences_partitions},
      {&kafka.nflog_topic, kafka.nflog_topic.name, "compact", &layout.nflog_partitions},
      {&kafka.hits_topic, kafka.hits_topic.name, "delete", &layout.hits_partitions},
      {&kafka.oncall_topic, kafka.oncall_topic.name, "compact", &layout.oncall_partitions},
  };
  const admin_client admin(kafka);
  read_partitions(admin, topics, timeout_ms);
  std::vector<wanted_topic*> missing;
  for (wanted_topic& t : topics) {
    if (*t.partitions == 0) missing.push_back(&t);
  }
  if (!missing.empty()) {
    create(admin, missing, timeout_ms);
    // Until every partition has a leader: reading from them before fails with "not leader".
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!read_partitions(admin, topics, timeout_ms) ||
           std::any_of(topics.begin(), topics.end(),
                       [](const wanted_topic& t) { return *t.partitions == 0; })) {
      if (std::chrono::steady_clock::now() >= deadline) {
        throw topic_error(
            "bus.kafka: the topics were created but their partitions have no "
            "leader after " +
            std::to_string(timeout_ms / 1000) + " s");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  check_policies(admin, topics, timeout_ms);
  return layout;
}

int nflog_partition(std::string_view group_key, int partitions) {
  std::uint32_t hash = 2166136261U;
  for (const char c : group_key) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16777619U;
  }
  return partitions > 0 ? static_cast<int>(hash % static_cast<std::uint32_t>(partitions)) : 0;
}

}  // namespace tocsin::kafka
