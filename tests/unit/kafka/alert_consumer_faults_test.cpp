// The alert consumer when the group coordinator or the client refuses an operation: a failed
// offset commit is counted and tried again with the next commit (so the group's offset still
// reaches what was handled), and a failed seek before re-reading a record whose handler threw
// keeps the partition paused and is tried again, so no record after it is skipped.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/fault_injection.hpp"
#include "kafka/alert_consumer.hpp"
#include "tests/support/kafka_mock.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::kafka {
namespace {

using namespace std::chrono_literals;

constexpr const char* topic = "tocsin.alerts";
constexpr const char* group = "routers";
constexpr int offset_commit_api = 8;

rules::alert make_alert(int n) {
  rules::alert a;
  a.labels = {{"alertname", "disk-full"}, {"host", "web" + std::to_string(n)}};
  a.starts_at = std::chrono::system_clock::time_point(1795666255120ms);
  a.fingerprint = rules::fingerprint(a.labels);
  return a;
}

// The distinct fingerprints a handler took.
class received {
 public:
  void add(const rules::alert& a) {
    std::lock_guard lock(mutex_);
    seen_.insert(a.fingerprint);
  }
  [[nodiscard]] std::set<std::string> all() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  mutable std::mutex mutex_;
  std::set<std::string> seen_;
};

class alert_consumer_faults : public ::testing::Test {
 protected:
  alert_consumer_faults() { cluster_.create_topic(topic, 1); }

  [[nodiscard]] config::kafka_config kafka() const {
    config::kafka_config k;
    k.brokers = cluster_.bootstraps();
    k.topic = topic;
    k.group = group;
    // Quick mock-cluster rebalances (see alert_consumer_test).
    k.properties = {{"session.timeout.ms", "4000"},
                    {"heartbeat.interval.ms", "200"},
                    {"topic.metadata.refresh.interval.ms", "1000"},
                    {"fetch.wait.max.ms", "50"},
                    {"log_level", "4"}};
    return k;
  }

  // Writes alerts 0..count-1 to partition 0; their fingerprints.
  std::set<std::string> send_alerts(int count) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string errstr;
    conf->set("bootstrap.servers", cluster_.bootstraps(), errstr);
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), errstr));
    if (!producer) throw std::runtime_error("producer: " + errstr);
    std::set<std::string> fingerprints;
    for (int i = 0; i < count; ++i) {
      const auto a = make_alert(i);
      const std::string value = rules::to_json(a);
      const auto err = producer->produce(topic, 0, RdKafka::Producer::RK_MSG_COPY,
                                         const_cast<char*>(value.data()), value.size(),
                                         a.fingerprint.data(), a.fingerprint.size(), 0, nullptr);
      if (err != RdKafka::ERR_NO_ERROR) throw std::runtime_error(RdKafka::err2str(err));
      fingerprints.insert(a.fingerprint);
    }
    if (producer->flush(10000) != RdKafka::ERR_NO_ERROR) throw std::runtime_error("flush");
    return fingerprints;
  }

  // The group's committed offset of partition 0 as the coordinator has it (-1: none), asked by
  // a client that does not join the group.
  std::int64_t committed_offset() {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string errstr;
    conf->set("bootstrap.servers", cluster_.bootstraps(), errstr);
    conf->set("group.id", group, errstr);
    std::unique_ptr<RdKafka::KafkaConsumer> probe(
        RdKafka::KafkaConsumer::create(conf.get(), errstr));
    if (!probe) throw std::runtime_error("probe: " + errstr);
    std::vector<RdKafka::TopicPartition*> parts{RdKafka::TopicPartition::create(topic, 0)};
    std::int64_t offset = -1;
    if (probe->committed(parts, 5000) == RdKafka::ERR_NO_ERROR &&
        parts[0]->err() == RdKafka::ERR_NO_ERROR) {
      offset = parts[0]->offset();
    }
    RdKafka::TopicPartition::destroy(parts);
    probe->close();
    return offset;
  }

  std::uint64_t errors(const std::string& reason) {
    return metrics_.get_counter("tocsin_bus_errors_total", "", {{"reason", reason}}).value();
  }

  test::mock_kafka_cluster cluster_;
  metrics_registry metrics_;
};

TEST_F(alert_consumer_faults, a_refused_offset_commit_is_counted_and_made_good_by_the_next) {
  const auto sent = send_alerts(5);
  // The first two OffsetCommit requests fail; the coordinator takes the third.
  cluster_.push_request_errors(offset_commit_api, {RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE,
                                                   RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE});
  received got;
  alert_consumer consumer(
      kafka(), [&](const rules::alert& a) { got.add(a); }, metrics_);
  consumer.start();
  ASSERT_TRUE(test::wait_until([&] { return got.all() == sent; }, 20s));
  EXPECT_TRUE(test::wait_until([&] { return errors("offset_metadata_too_large") >= 2; }, 20s));
  // Without the retry the group would stay behind and a restart would redeliver.
  EXPECT_TRUE(test::wait_until([&] { return committed_offset() == 5; }, 20s))
      << "committed " << committed_offset();
  consumer.stop();
}

TEST_F(alert_consumer_faults, a_failed_seek_keeps_the_partition_paused_and_is_tried_again) {
  const auto sent = send_alerts(9);
  const std::string failing = make_alert(4).fingerprint;
  std::atomic<int> failures{0};
  received got;
  const fault_injection::scoped_fault seek_fails("kafka.consumer.seek", 0);
  alert_consumer consumer(
      kafka(),
      [&](const rules::alert& a) {
        if (a.fingerprint == failing && failures.fetch_add(1) == 0) {
          throw std::runtime_error("router state unavailable");
        }
        got.add(a);
      },
      metrics_);
  consumer.start();
  // The first seek back to the failed record fails; the second, 500 ms later, works, and every
  // record after it is handled too.
  ASSERT_TRUE(test::wait_until([&] { return got.all() == sent; }, 20s))
      << got.all().size() << " of " << sent.size();
  EXPECT_EQ(fault_injection::fired_at(), "kafka.consumer.seek");
  EXPECT_EQ(errors("timed_out"), 1U);
  EXPECT_EQ(errors("handler_failed"), 1U);
  EXPECT_TRUE(test::wait_until([&] { return committed_offset() == 9; }, 20s));
  consumer.stop();
}

}  // namespace
}  // namespace tocsin::kafka
