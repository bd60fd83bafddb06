#include "kafka/state_publisher.hpp"

#include <spdlog/spdlog.h>

namespace tocsin::kafka {

state_publisher::state_publisher(const config::kafka_config& kafka, metrics_registry& metrics,
                                 std::string node_name)
    : node_name_(std::move(node_name)),
      errors_("state publisher", metrics),
      published_(metrics.get_counter("tocsin_cluster_records_published_total",
                                     "Records a router or collector published itself: silences, "
                                     "notification log, hits, alerts "
                                     "of the router's API and windows.")),
      reports_(std::make_unique<delivery_reports>([this](RdKafka::Message& m) {
        if (m.err() == RdKafka::ERR_NO_ERROR) {
          published_.inc();
        } else {
          count_failure(m.err(), m.topic_name());
        }
      })),
      events_(std::make_unique<log_events>("state publisher")) {
  auto conf = make_conf(kafka, client_role::state_producer);
  std::string errstr;
  conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(reports_.get()), errstr);
  conf->set("event_cb", static_cast<RdKafka::EventCb*>(events_.get()), errstr);
  producer_.reset(RdKafka::Producer::create(conf.get(), errstr));
  if (!producer_) {
    throw client_config_error({"bus.kafka: cannot create the state producer: " + errstr});
  }
  poller_ = std::thread([this] {
    while (!stopping_) producer_->poll(100);
  });
}

state_publisher::~state_publisher() {
  stopping_ = true;
  if (poller_.joinable()) poller_.join();
  if (producer_->flush(5000) != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("kafka: state publisher: {} record(s) not delivered at shutdown",
                 producer_->outq_len());
  }
}

void state_publisher::publish(const std::string& topic, std::int32_t partition,
                              const std::string& key, const std::string& value) {
  produce(topic, partition, key, value, false);
}

void state_publisher::publish_alert(const std::string& topic, const std::string& fingerprint,
                                    const std::string& alert_json) {
  produce(topic, -1, fingerprint, alert_json, true);
}

void state_publisher::produce(const std::string& topic, std::int32_t partition,
                              const std::string& key, const std::string& value, bool alert) {
  RdKafka::Headers* headers = RdKafka::Headers::create();
  headers->add("tocsin-node", node_name_);
  if (alert) headers->add("tocsin-schema", alert_schema_version);
  const RdKafka::ErrorCode err = producer_->produce(
      topic, partition == -1 ? RdKafka::Topic::PARTITION_UA : partition,
      RdKafka::Producer::RK_MSG_COPY, value.empty() ? nullptr : const_cast<char*>(value.data()),
      value.size(), key.data(), key.size(), 0, headers, nullptr);
  if (err != RdKafka::ERR_NO_ERROR) {
    delete headers;  // librdkafka owns them only on success
    count_failure(err, topic);
  }
}

void state_publisher::count_failure(RdKafka::ErrorCode err, const std::string& topic) {
  std::lock_guard lock(errors_mutex_);
  errors_.count(err, "a record for " + topic + " was not delivered: " + RdKafka::err2str(err));
}

}  // namespace tocsin::kafka
