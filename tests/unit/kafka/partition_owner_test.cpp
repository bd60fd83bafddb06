// kafka::partition_owner against librdkafka's mock cluster: the consumer group on the notification
// log gives each partition to one router, which owns it (sends its groups) only once it has read
// it to its end (DESIGN.md "Scale-out").

#include "kafka/partition_owner.hpp"

#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "kafka/topics.hpp"
#include "tests/support/kafka_mock.hpp"
#include "tests/support/metrics.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::kafka {
namespace {

using namespace std::chrono_literals;

constexpr const char* nflog_topic = "tocsin.nflog";
constexpr int partitions = 4;
// Real time for the mock cluster's group coordinator (it waits 3 s for a group's first members
// and up to session.timeout.ms for members to rejoin); only ever waited out on failure.
constexpr auto patience = 60s;

// One group key per partition of the notification log (by kafka::nflog_partition).
std::vector<std::string> key_per_partition() {
  std::vector<std::string> keys(partitions);
  int found = 0;
  for (int i = 0; found < partitions; ++i) {
    const std::string key = R"({}:{alertname="a)" + std::to_string(i) + R"("})";
    std::string& slot = keys[nflog_partition(key, partitions)];
    if (slot.empty()) {
      slot = key;
      ++found;
    }
  }
  return keys;
}

class test_producer {
 public:
  explicit test_producer(const std::string& bootstraps) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string errstr;
    conf->set("bootstrap.servers", bootstraps, errstr);
    conf->set("linger.ms", "1", errstr);
    producer_.reset(RdKafka::Producer::create(conf.get(), errstr));
    if (!producer_) throw std::runtime_error("producer: " + errstr);
  }
  ~test_producer() { producer_->flush(5000); }
  test_producer(const test_producer&) = delete;
  test_producer& operator=(const test_producer&) = delete;

  // To the key's partition, as the routers produce it.
  void send(const std::string& key, const std::string& value) {
    const RdKafka::ErrorCode err = producer_->produce(
        nflog_topic, nflog_partition(key, partitions), RdKafka::Producer::RK_MSG_COPY,
        const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0, nullptr);
    if (err != RdKafka::ERR_NO_ERROR) throw std::runtime_error(RdKafka::err2str(err));
  }
  void flush() { ASSERT_EQ(producer_->flush(10000), RdKafka::ERR_NO_ERROR); }

 private:
  std::unique_ptr<RdKafka::Producer> producer_;
};

// A record as the handler saw it, and what the member said about it at that moment.
struct seen_record {
  std::string key, value;
  bool ready_then = false;
  bool owned_then = false;
};

// One router's membership with what its handler was given.
class member {
 public:
  member(const config::kafka_config& kafka, metrics_registry& metrics,
         partition_owner_options options = {})
      : member_(
            kafka, partitions,
            [this](std::string_view key, std::string_view value) { on_record(key, value); },
            metrics, std::move(options)) {}

  partition_owner& operator*() { return member_; }
  partition_owner* operator->() { return &member_; }
  [[nodiscard]] std::vector<seen_record> records() const {
    std::lock_guard lock(mutex_);
    return records_;
  }

 private:
  void on_record(std::string_view key, std::string_view value) {
    const std::string k(key);
    seen_record r{k, std::string(value), member_.ready(), member_.owns(k)};
    std::lock_guard lock(mutex_);
    records_.push_back(std::move(r));
  }

  mutable std::mutex mutex_;
  std::vector<seen_record> records_;
  partition_owner member_;  // last: its thread calls on_record()
};

class partition_owner_test : public ::testing::Test {
 protected:
  partition_owner_test() { cluster_.create_topic(nflog_topic, partitions); }

  [[nodiscard]] config::kafka_config kafka() const {
    config::kafka_config k;
    k.brokers = cluster_.bootstraps();
    k.group = "routers";
    k.nflog_topic.name = nflog_topic;
    k.nflog_topic.partitions = partitions;
    // Short group timings keep the mock-cluster rebalances quick: its coordinator waits 3 s for
    // the first members of a group, then session.timeout.ms - 1 s for members to rejoin. Below
    // 3.5 s the member times out during that first wait. These override the group member's own
    // session.timeout.ms=10000 (the operator's properties come last).
    k.properties = {{"session.timeout.ms", "4000"},
                    {"heartbeat.interval.ms", "200"},
                    {"topic.metadata.refresh.interval.ms", "1000"},
                    {"fetch.wait.max.ms", "50"},
                    {"log_level", "4"}};
    return k;
  }

  // How many of `members` own each partition's key.
  static std::vector<int> owners(const std::vector<member*>& members) {
    std::vector<int> count(partitions, 0);
    const auto keys = key_per_partition();
    for (int p = 0; p < partitions; ++p) {
      for (member* m : members) count[p] += (*m)->owns(keys[p]) ? 1 : 0;
    }
    return count;
  }
  static bool owns_all(member& m) {
    for (const auto& key : key_per_partition()) {
      if (!m->owns(key)) return false;
    }
    return true;
  }
  static bool owns_some(member& m) {
    for (const auto& key : key_per_partition()) {
      if (m->owns(key)) return true;
    }
    return false;
  }
  static bool owns_none(member& m) { return !owns_some(m); }

  test::mock_kafka_cluster cluster_;
};

TEST_F(partition_owner_test, owns_nothing_and_is_not_ready_before_an_assignment) {
  metrics_registry metrics;
  member m(kafka(), metrics);
  EXPECT_FALSE(m->ready());
  EXPECT_TRUE(owns_none(m));
  EXPECT_EQ(test::gauge_value(metrics, "tocsin_nflog_partitions_owned"), 0);
}

TEST_F(partition_owner_test, a_single_member_owns_every_partition_once_read_to_its_end) {
  const auto keys = key_per_partition();
  {
    test_producer producer(cluster_.bootstraps());
    for (int round = 0; round < 3; ++round) {
      for (const auto& key : keys) producer.send(key, "state " + std::to_string(round));
    }
    producer.flush();
  }
  metrics_registry metrics;
  member m(kafka(), metrics);
  m->start();
  ASSERT_TRUE(test::wait_until([&] { return m->ready(); }, patience)) << "never ready";
  ASSERT_TRUE(owns_all(m));
  EXPECT_EQ(test::gauge_value(metrics, "tocsin_nflog_partitions_owned"), partitions);

  // Every record produced before start() was handed over before ready() and before its
  // partition was owned, in order within the key's partition.
  const auto records = m.records();
  ASSERT_EQ(records.size(), keys.size() * 3);
  std::map<std::string, std::vector<std::string>> values;
  for (const auto& r : records) {
    EXPECT_FALSE(r.ready_then) << r.key << " handed over after ready()";
    EXPECT_FALSE(r.owned_then) << r.key << " handed over after its partition was owned";
    values[r.key].push_back(r.value);
  }
  for (const auto& key : keys) {
    EXPECT_EQ(values[key], (std::vector<std::string>{"state 0", "state 1", "state 2"})) << key;
  }

  // A record published now (another router's send) still reaches the handler.
  {
    test_producer producer(cluster_.bootstraps());
    producer.send(keys[1], "later");
    producer.flush();
  }
  ASSERT_TRUE(
      test::wait_until([&] { return m.records().size() == keys.size() * 3 + 1; }, patience));
  EXPECT_EQ(m.records().back().value, "later");
  EXPECT_TRUE(m.records().back().owned_then);

  m->stop();
  EXPECT_TRUE(owns_none(m));
  EXPECT_EQ(test::gauge_value(metrics, "tocsin_nflog_partitions_owned"), 0);
}

TEST_F(partition_owner_test, owns_agrees_with_partition_of_and_nflog_partition) {
  metrics_registry metrics;
  member m(kafka(), metrics);
  for (int i = 0; i < 200; ++i) {
    const std::string key = "group-" + std::to_string(i);
    EXPECT_EQ(m->partition_of(key), nflog_partition(key, partitions)) << key;
  }
  m->start();
  ASSERT_TRUE(test::wait_until([&] { return m->ready(); }, patience));
  for (int i = 0; i < 200; ++i) EXPECT_TRUE(m->owns("group-" + std::to_string(i)));
}

TEST_F(partition_owner_test,
       two_members_split_the_partitions_and_one_takes_all_when_the_other_leaves) {
  const auto keys = key_per_partition();
  {
    test_producer producer(cluster_.bootstraps());
    for (const auto& key : keys) producer.send(key, "state of " + key);
    producer.flush();
  }
  metrics_registry metrics_a;
  metrics_registry metrics_b;
  member a(kafka(), metrics_a);
  member b(kafka(), metrics_b);
  a->start();
  b->start();
  std::vector<member*> both = {&a, &b};
  ASSERT_TRUE(test::wait_until(
      [&] {
        return a->ready() && b->ready() && owns_some(a) && owns_some(b) &&
               owners(both) == std::vector<int>(partitions, 1);
      },
      patience))
      << "a owns some: " << owns_some(a) << ", b owns some: " << owns_some(b);
  EXPECT_EQ(test::gauge_value(metrics_a, "tocsin_nflog_partitions_owned") +
                test::gauge_value(metrics_b, "tocsin_nflog_partitions_owned"),
            partitions);

  // Each key gets the answer of its partition: another key of the same partition agrees.
  for (int i = 0; i < 100; ++i) {
    const std::string key = "other-" + std::to_string(i);
    const std::string& same_partition = keys[nflog_partition(key, partitions)];
    EXPECT_EQ(a->owns(key), a->owns(same_partition)) << key;
    EXPECT_EQ(b->owns(key), b->owns(same_partition)) << key;
  }

  // The member that owns a key's partition was handed that key's record.
  for (const auto& key : keys) {
    member& owner = a->owns(key) ? a : b;
    bool handed = false;
    for (const auto& r : owner.records()) handed = handed || r.key == key;
    EXPECT_TRUE(handed) << key;
  }

  // One leaves the group: the other comes to own everything.
  const std::size_t b_records_before = b.records().size();
  a->stop();
  EXPECT_TRUE(owns_none(a));
  ASSERT_TRUE(test::wait_until([&] { return owns_all(b) && b->ready(); }, patience))
      << owners({&b}).size();
  EXPECT_EQ(test::gauge_value(metrics_b, "tocsin_nflog_partitions_owned"), partitions);
  // It read the partitions it took over (from the beginning) before owning them.
  std::set<std::string> read_after;
  const auto records = b.records();
  for (std::size_t i = b_records_before; i < records.size(); ++i) {
    EXPECT_FALSE(records[i].owned_then) << records[i].key;
    read_after.insert(records[i].key);
  }
  for (const auto& key : keys) {
    bool handed = false;
    for (const auto& r : records) handed = handed || r.key == key;
    EXPECT_TRUE(handed) << key << " never reached the member that owns it now";
  }
  EXPECT_FALSE(read_after.empty());
}

TEST_F(partition_owner_test,
       a_member_that_joins_later_takes_partitions_only_once_they_are_given_up) {
  metrics_registry metrics_a;
  metrics_registry metrics_b;
  member a(kafka(), metrics_a);
  a->start();
  ASSERT_TRUE(test::wait_until([&] { return a->ready() && owns_all(a); }, patience));

  member b(kafka(), metrics_b);
  b->start();
  // Sampled while the group rebalances: no partition is ever owned by both. (A stale read of
  // the first member could only pass for one if the whole hand-over, seconds in the mock,
  // happened between two reads microseconds apart.)
  int most_owners = 0;
  std::vector<member*> both = {&a, &b};
  ASSERT_TRUE(test::wait_until(
      [&] {
        const auto count = owners(both);
        most_owners = std::max(most_owners, *std::max_element(count.begin(), count.end()));
        return b->ready() && owns_some(b) && owns_some(a) &&
               count == std::vector<int>(partitions, 1);
      },
      patience));
  EXPECT_LE(most_owners, 1);
}

TEST_F(partition_owner_test, stop_before_start_and_twice_is_harmless) {
  metrics_registry metrics;
  member m(kafka(), metrics);
  m->stop();
  m->stop();
  m->start();  // after stop(): does nothing
  EXPECT_FALSE(m->ready());
  EXPECT_TRUE(owns_none(m));
}

// A member whose router is stuck stops polling; after max.poll.interval.ms it leaves the group
// and the other member comes to own everything. Once healthy again it rejoins.
TEST_F(partition_owner_test, a_stuck_member_stops_polling_and_its_partitions_move) {
  auto k = kafka();
  k.properties["max.poll.interval.ms"] = "5000";  // at least session.timeout.ms
  std::atomic<bool> a_healthy{true};
  partition_owner_options a_options;
  a_options.healthy = [&] { return a_healthy.load(); };
  metrics_registry metrics_a;
  metrics_registry metrics_b;
  member a(k, metrics_a, a_options);
  member b(k, metrics_b);
  a->start();
  b->start();
  ASSERT_TRUE(test::wait_until(
      [&] { return a->ready() && b->ready() && owns_some(a) && owns_some(b); }, patience));

  a_healthy = false;
  ASSERT_TRUE(test::wait_until([&] { return owns_all(b) && b->ready(); }, patience))
      << "the stuck member's partitions did not move";
  EXPECT_TRUE(owns_none(a));

  a_healthy = true;
  EXPECT_TRUE(test::wait_until([&] { return owns_some(a) && a->ready() && b->ready(); }, patience))
      << "the member did not rejoin once healthy";
}

}  // namespace
}  // namespace tocsin::kafka
