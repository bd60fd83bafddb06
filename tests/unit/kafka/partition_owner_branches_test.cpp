// kafka::partition_owner's less travelled paths against librdkafka's mock cluster: reading from
// `replay` ago instead of the beginning, the on_assigned hook, a handler that throws, a
// subscription librdkafka refuses, and start()/stop() called out of order.
//
// The mock cluster of librdkafka 2.0.2 answers a ListOffsets request by timestamp with offset -1
// ("no such record"), so a replaying member starts every partition at its end there.

#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "kafka/partition_owner.hpp"
#include "kafka/topics.hpp"
#include "tests/support/kafka_mock.hpp"
#include "tests/support/metrics.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::kafka {
namespace {

using namespace std::chrono_literals;

constexpr const char* topic = "tocsin.nflog";
constexpr int partitions = 2;
constexpr auto patience = 60s;  // real time for the mock group coordinator; only on failure

void produce(const std::string& bootstraps, const std::string& key, const std::string& value) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string errstr;
  conf->set("bootstrap.servers", bootstraps, errstr);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), errstr));
  ASSERT_TRUE(producer) << errstr;
  ASSERT_EQ(producer->produce(topic, nflog_partition(key, partitions),
                              RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
                              value.size(), key.data(), key.size(), 0, nullptr),
            RdKafka::ERR_NO_ERROR);
  ASSERT_EQ(producer->flush(10000), RdKafka::ERR_NO_ERROR);
}

class partition_owner_branches : public ::testing::Test {
 protected:
  partition_owner_branches() { cluster_.create_topic(topic, partitions); }

  [[nodiscard]] config::kafka_config kafka() const {
    config::kafka_config k;
    k.brokers = cluster_.bootstraps();
    k.group = "routers";
    k.nflog_topic.name = topic;
    k.nflog_topic.partitions = partitions;
    k.properties = {{"session.timeout.ms", "4000"},
                    {"heartbeat.interval.ms", "200"},
                    {"topic.metadata.refresh.interval.ms", "1000"},
                    {"fetch.wait.max.ms", "50"},
                    {"log_level", "3"}};
    return k;
  }

  test::mock_kafka_cluster cluster_;
  metrics_registry metrics_;
};

TEST_F(partition_owner_branches, a_replaying_member_calls_on_assignment_change_and_becomes_ready) {
  produce(cluster_.bootstraps(), "old group", "old state");
  std::atomic<int> assigned{0};
  std::atomic<int> records{0};
  partition_owner_options options;
  options.replay = 1h;
  options.on_assignment_change = [&] { ++assigned; };
  options.owned_metric = "test_owned";
  options.owned_help = "test";
  partition_owner owner(
      kafka(), partitions, [&](std::string_view, std::string_view) { ++records; }, metrics_,
      options);
  owner.start();
  ASSERT_TRUE(test::wait_until([&] { return owner.ready(); }, patience));
  EXPECT_GE(assigned.load(), 1);
  EXPECT_TRUE(owner.owns("old group"));
  EXPECT_TRUE(owner.owns("any other group"));
  EXPECT_EQ(test::gauge_value(metrics_, "test_owned"), partitions);
  // What is produced from now on is read, whatever the start offset was.
  const int before = records.load();
  produce(cluster_.bootstraps(), "new group", "new state");
  ASSERT_TRUE(test::wait_until([&] { return records.load() > before; }, patience));
  owner.stop();
  EXPECT_FALSE(owner.ready());
  EXPECT_EQ(test::gauge_value(metrics_, "test_owned"), 0);
}

TEST_F(partition_owner_branches, a_failed_replay_lookup_reads_from_the_beginning_and_is_counted) {
  produce(cluster_.bootstraps(), "old group", "old state");
  cluster_.push_request_errors(2 /* ListOffsets */, {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED});
  std::mutex mutex;
  std::vector<std::string> values;
  partition_owner_options options;
  options.replay = 1h;
  partition_owner owner(
      kafka(), partitions,
      [&](std::string_view, std::string_view value) {
        std::lock_guard lock(mutex);
        values.emplace_back(value);
      },
      metrics_, options);
  owner.start();
  ASSERT_TRUE(test::wait_until([&] { return owner.ready(); }, patience));
  // Too much rather than too little: the record from before the lookup failed was read.
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(values, std::vector<std::string>{"old state"});
  }
  EXPECT_GE(test::metric_sum(metrics_, "tocsin_bus_errors_total"), 1);
}

TEST_F(partition_owner_branches, a_handler_that_throws_skips_the_record_and_goes_on) {
  produce(cluster_.bootstraps(), "poison", "bad");
  produce(cluster_.bootstraps(), "fine", "good");
  std::mutex mutex;
  std::vector<std::string> seen;
  partition_owner owner(
      kafka(), partitions,
      [&](std::string_view key, std::string_view value) {
        {
          std::lock_guard lock(mutex);
          seen.emplace_back(key);
        }
        if (value == "bad") throw std::runtime_error("cannot parse");
      },
      metrics_);
  owner.start();
  ASSERT_TRUE(test::wait_until([&] { return owner.ready(); }, patience));
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_TRUE(owner.owns("poison"));
}

TEST_F(partition_owner_branches, start_twice_and_start_after_stop_do_nothing) {
  partition_owner owner(
      kafka(), partitions, [](std::string_view, std::string_view) {}, metrics_);
  owner.start();
  owner.start();  // already started
  ASSERT_TRUE(test::wait_until([&] { return owner.ready(); }, patience));
  owner.stop();
  owner.stop();   // already stopped
  owner.start();  // closed: stays stopped
  EXPECT_FALSE(owner.ready());
  EXPECT_FALSE(owner.owns("x"));
}

TEST_F(partition_owner_branches, a_subscription_librdkafka_refuses_is_thrown_by_start) {
  partition_owner_options options;
  options.topic = "^[";  // a regex subscription that does not compile
  partition_owner owner(
      kafka(), partitions, [](std::string_view, std::string_view) {}, metrics_, options);
  EXPECT_THROW(owner.start(), std::runtime_error);
  EXPECT_FALSE(owner.ready());
}

TEST_F(partition_owner_branches, rejected_properties_are_a_client_config_error) {
  auto k = kafka();
  k.properties["no.such.property"] = "1";
  EXPECT_THROW(partition_owner(
                   k, partitions, [](std::string_view, std::string_view) {}, metrics_),
               client_config_error);
}

}  // namespace
}  // namespace tocsin::kafka
