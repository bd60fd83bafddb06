// kafka::ensure_topics() against a scripted Kafka broker on loopback that answers what
// librdkafka's mock cluster cannot: CreateTopics (v0) and DescribeConfigs (v0), besides
// ApiVersions and Metadata (v1, naming itself the controller). So the checks of the topics'
// cleanup.policy, topics created on the spot, creations refused, and partitions that never get a
// leader are exercised through the real admin client.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "kafka/topics.hpp"

namespace tocsin::kafka {
namespace {

// Kafka's wire encoding, the non-flexible kind (plus what ApiVersions v3 needs).
class writer {
 public:
  writer& i8(std::int8_t v) {
    out_.push_back(static_cast<char>(v));
    return *this;
  }
  writer& i16(std::int16_t v) {
    const auto u = static_cast<std::uint16_t>(v);
    out_.push_back(static_cast<char>(u >> 8));
    out_.push_back(static_cast<char>(u & 0xff));
    return *this;
  }
  writer& i32(std::int32_t v) {
    const auto u = static_cast<std::uint32_t>(v);
    for (int shift = 24; shift >= 0; shift -= 8) out_.push_back(static_cast<char>(u >> shift));
    return *this;
  }
  writer& str(const std::string& s) {
    i16(static_cast<std::int16_t>(s.size()));
    out_ += s;
    return *this;
  }
  writer& nullable(const std::optional<std::string>& s) {
    if (!s) return i16(-1);
    return str(*s);
  }
  writer& uvarint(std::uint32_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
    return *this;
  }
  [[nodiscard]] const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

class reader {
 public:
  explicit reader(const std::string& in) : in_(in) {}
  std::int8_t i8() { return static_cast<std::int8_t>(byte()); }
  std::int16_t i16() {
    const unsigned hi = byte();
    return static_cast<std::int16_t>((hi << 8) | byte());
  }
  std::int32_t i32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | byte();
    return static_cast<std::int32_t>(v);
  }
  std::optional<std::string> nullable() {
    const std::int16_t n = i16();
    if (n < 0) return std::nullopt;
    if (pos_ + static_cast<std::size_t>(n) > in_.size()) throw std::runtime_error("short");
    std::string s = in_.substr(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return s;
  }
  std::string str() { return nullable().value_or(""); }

 private:
  unsigned byte() {
    if (pos_ >= in_.size()) throw std::runtime_error("short request");
    return static_cast<unsigned char>(in_[pos_++]);
  }
  const std::string& in_;
  std::size_t pos_ = 0;
};

constexpr std::int16_t api_metadata = 3;
constexpr std::int16_t api_versions = 18;
constexpr std::int16_t api_create_topics = 19;
constexpr std::int16_t api_describe_configs = 32;
constexpr std::int8_t resource_topic = 2;

// A topic of the scripted broker.
struct scripted_topic {
  int partitions = 1;
  bool led = true;  // false: every partition has leader -1
  // What DescribeConfigs says: cleanup.policy (nullopt: no such entry), or an error.
  std::optional<std::string> policy;
  bool null_policy = false;  // the entry is there with a null value
  std::int16_t describe_error = 0;
  std::int16_t metadata_error = 0;  // the topic is listed with this error (and no partitions)
};

// One broker (node 1, also the controller) whose topics and answers a test sets beforehand.
class scripted_broker {
 public:
  using topic = scripted_topic;

  scripted_broker() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("scripted broker: cannot listen");
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~scripted_broker() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (const int fd : connections_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : handlers_) t.join();
    for (const int fd : connections_) ::close(fd);
    ::close(listen_fd_);
  }
  scripted_broker(const scripted_broker&) = delete;
  scripted_broker& operator=(const scripted_broker&) = delete;

  [[nodiscard]] std::string bootstraps() const { return "127.0.0.1:" + std::to_string(port_); }

  void set_topic(const std::string& name, topic t) {
    std::lock_guard lock(mutex_);
    topics_[name] = std::move(t);
  }
  // What CreateTopics answers for `name` (0: created, as `created` says).
  void on_create(const std::string& name, std::int16_t error, topic created = {}) {
    std::lock_guard lock(mutex_);
    create_errors_[name] = error;
    created_[name] = std::move(created);
  }
  // Whether ApiVersions offers DescribeConfigs (set before the client connects).
  void offer_describe_configs(bool offered) { describe_configs_ = offered; }
  // DescribeConfigs also describes a topic nobody asked about.
  void describe_extra(const std::string& name) {
    std::lock_guard lock(mutex_);
    extra_described_ = name;
  }
  [[nodiscard]] std::vector<std::string> create_requests() const {
    std::lock_guard lock(mutex_);
    return create_requests_;
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      std::lock_guard lock(mutex_);
      connections_.push_back(fd);
      handlers_.emplace_back([this, fd] { serve(fd); });
    }
  }

  static bool read_exactly(int fd, char* out, std::size_t n) {
    while (n > 0) {
      const ssize_t got = ::recv(fd, out, n, 0);
      if (got <= 0) return false;
      out += got;
      n -= static_cast<std::size_t>(got);
    }
    return true;
  }

  void serve(int fd) {
    while (!stopping_) {
      char size_bytes[4];
      if (!read_exactly(fd, size_bytes, 4)) return;
      std::uint32_t size = 0;
      for (const char b : size_bytes) size = (size << 8) | static_cast<unsigned char>(b);
      std::string request(size, '\0');
      if (!read_exactly(fd, request.data(), size)) return;
      reader in(request);
      const std::int16_t api = in.i16();
      const std::int16_t version = in.i16();
      const std::int32_t correlation = in.i32();
      (void)in.nullable();  // client.id
      writer body;
      if (api == api_versions) {
        api_versions_body(body, version);
      } else if (api == api_metadata) {
        metadata_body(in, body);
      } else if (api == api_create_topics) {
        create_topics_body(in, body);
      } else if (api == api_describe_configs) {
        describe_configs_body(in, body);
      } else {
        continue;  // not answered: nothing the admin client needs
      }
      writer frame;
      frame.i32(static_cast<std::int32_t>(4 + body.bytes().size())).i32(correlation);
      const std::string out = frame.bytes() + body.bytes();
      if (::send(fd, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) {
        return;
      }
    }
  }

  void api_versions_body(writer& w, std::int16_t version) const {
    std::vector<std::array<std::int16_t, 3>> apis = {
        {api_metadata, 0, 1}, {api_versions, 0, 3}, {api_create_topics, 0, 0}};
    if (describe_configs_) apis.push_back({api_describe_configs, 0, 0});
    w.i16(0);
    if (version >= 3) {
      w.uvarint(static_cast<std::uint32_t>(apis.size() + 1));
      for (const auto& a : apis) w.i16(a[0]).i16(a[1]).i16(a[2]).uvarint(0);
      w.i32(0).uvarint(0);
      return;
    }
    w.i32(static_cast<std::int32_t>(apis.size()));
    for (const auto& a : apis) w.i16(a[0]).i16(a[1]).i16(a[2]);
    if (version >= 1) w.i32(0);
  }

  void metadata_body(reader& in, writer& w) {
    const std::int32_t asked = in.i32();  // -1: every topic
    std::vector<std::string> names;
    for (std::int32_t i = 0; i < asked; ++i) names.push_back(in.str());
    std::lock_guard lock(mutex_);
    if (asked < 0) {
      for (const auto& [name, t] : topics_) names.push_back(name);
    }
    w.i32(1).i32(1).str("127.0.0.1").i32(port_).nullable(std::nullopt);
    w.i32(1);  // the controller
    w.i32(static_cast<std::int32_t>(names.size()));
    for (const auto& name : names) {
      const auto it = topics_.find(name);
      if (it == topics_.end()) {
        w.i16(3).str(name).i8(0).i32(0);  // UNKNOWN_TOPIC_OR_PARTITION
        continue;
      }
      if (it->second.metadata_error != 0) {
        w.i16(it->second.metadata_error).str(name).i8(0).i32(0);
        continue;
      }
      w.i16(0).str(name).i8(0).i32(it->second.partitions);
      for (int p = 0; p < it->second.partitions; ++p) {
        const bool led = it->second.led;
        w.i16(led ? 0 : 5).i32(p).i32(led ? 1 : -1).i32(1).i32(1);
        if (led) {
          w.i32(1).i32(1);
        } else {
          w.i32(0);
        }
      }
    }
  }

  void create_topics_body(reader& in, writer& w) {
    const std::int32_t count = in.i32();
    std::vector<std::string> names;
    for (std::int32_t i = 0; i < count; ++i) {
      names.push_back(in.str());
      (void)in.i32();  // partitions
      (void)in.i16();  // replication factor
      const std::int32_t assignments = in.i32();
      for (std::int32_t a = 0; a < assignments; ++a) {
        (void)in.i32();
        const std::int32_t replicas = in.i32();
        for (std::int32_t r = 0; r < replicas; ++r) (void)in.i32();
      }
      const std::int32_t configs = in.i32();
      for (std::int32_t c = 0; c < configs; ++c) {
        const std::string key = in.str();
        names.back() += " " + key + "=" + in.nullable().value_or("(null)");
      }
    }
    std::lock_guard lock(mutex_);
    w.i32(static_cast<std::int32_t>(names.size()));
    for (const auto& request : names) {
      create_requests_.push_back(request);
      const std::string name = request.substr(0, request.find(' '));
      const auto err = create_errors_.find(name);
      const std::int16_t error = err != create_errors_.end() ? err->second : 0;
      if (error == 0 || error == 36) topics_[name] = created_[name];  // 36: already exists
      w.str(name).i16(error);
    }
  }

  void describe_configs_body(reader& in, writer& w) {
    const std::int32_t count = in.i32();
    std::vector<std::string> names;
    for (std::int32_t i = 0; i < count; ++i) {
      (void)in.i8();
      names.push_back(in.str());
      const std::int32_t keys = in.i32();
      for (std::int32_t k = 0; k < keys; ++k) (void)in.str();
    }
    std::lock_guard lock(mutex_);
    if (!extra_described_.empty()) names.push_back(extra_described_);
    w.i32(0).i32(static_cast<std::int32_t>(names.size()));
    for (const auto& name : names) {
      const topic t = topics_.count(name) != 0 ? topics_[name] : topic{};
      w.i16(t.describe_error)
          .nullable(t.describe_error != 0 ? std::optional<std::string>("refused by the script")
                                          : std::nullopt)
          .i8(resource_topic)
          .str(name);
      std::vector<std::pair<std::string, std::optional<std::string>>> entries = {
          {"retention.ms", "604800000"}};
      if (t.policy) entries.emplace_back("cleanup.policy", t.policy);
      if (t.null_policy) entries.emplace_back("cleanup.policy", std::nullopt);
      w.i32(t.describe_error != 0 ? 0 : static_cast<std::int32_t>(entries.size()));
      if (t.describe_error != 0) continue;
      for (const auto& [key, value] : entries) w.str(key).nullable(value).i8(0).i8(0).i8(0);
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::vector<int> connections_;
  std::vector<std::thread> handlers_;
  std::map<std::string, topic> topics_;
  std::map<std::string, std::int16_t> create_errors_;
  std::map<std::string, topic> created_;
  std::vector<std::string> create_requests_;
  std::string extra_described_;
  std::atomic<bool> describe_configs_{true};
};

template <typename F>
std::string topic_error_of(F&& f) {
  try {
    f();
  } catch (const topic_error& e) {
    return e.what();
  }
  return "";
}

class topics_policy_test : public ::testing::Test {
 protected:
  [[nodiscard]] config::kafka_config kafka() const {
    config::kafka_config k;
    k.brokers = broker_.bootstraps();
    k.topic = "t.alerts";
    k.silences_topic.name = "t.silences";
    k.nflog_topic.name = "t.nflog";
    k.hits_topic.name = "t.hits";
    k.oncall_topic.name = "t.oncall";
    // CreateTopics v0 has no "the brokers' default" (-1, KIP-464).
    for (auto* t :
         {&k.alerts_topic, &k.silences_topic, &k.nflog_topic, &k.hits_topic, &k.oncall_topic}) {
      t->replication_factor = 1;
    }
    k.properties = {{"log_level", "3"}};
    return k;
  }

  // All five topics, with the policies tocsin wants.
  void all_topics_right() {
    broker_.set_topic("t.alerts", {.partitions = 3, .policy = "delete"});
    broker_.set_topic("t.silences", {.partitions = 1, .policy = "compact"});
    broker_.set_topic("t.nflog", {.partitions = 4, .policy = "compact"});
    broker_.set_topic("t.hits", {.partitions = 2});  // no entry: Kafka's default, delete
    broker_.set_topic("t.oncall", {.partitions = 6, .policy = "compact"});
  }

  scripted_broker broker_;
};

TEST_F(topics_policy_test, existing_topics_with_the_right_policies_pass) {
  all_topics_right();
  const topic_layout layout = ensure_topics(kafka(), 10000);
  EXPECT_EQ(layout.alerts_partitions, 3);
  EXPECT_EQ(layout.silences_partitions, 1);
  EXPECT_EQ(layout.nflog_partitions, 4);
  EXPECT_EQ(layout.hits_partitions, 2);
  EXPECT_TRUE(broker_.create_requests().empty());
}

TEST_F(topics_policy_test, a_compacted_topic_that_deletes_is_refused_naming_it_and_the_fix) {
  all_topics_right();
  broker_.set_topic("t.nflog", {.partitions = 4, .policy = "delete"});
  const std::string what = topic_error_of([&] { ensure_topics(kafka(), 10000); });
  EXPECT_NE(what.find("topic t.nflog has cleanup.policy=delete, tocsin needs compact"),
            std::string::npos)
      << what;
  EXPECT_NE(what.find("kafka-configs --alter"), std::string::npos) << what;
}

TEST_F(topics_policy_test, an_alerts_topic_that_compacts_is_refused) {
  all_topics_right();
  broker_.set_topic("t.alerts", {.partitions = 3, .policy = "compact"});
  const std::string what = topic_error_of([&] { ensure_topics(kafka(), 10000); });
  EXPECT_NE(what.find("topic t.alerts has cleanup.policy=compact, tocsin needs delete"),
            std::string::npos)
      << what;
}

TEST_F(topics_policy_test, a_null_policy_counts_as_kafkas_default_delete) {
  all_topics_right();
  broker_.set_topic("t.silences", {.partitions = 1, .null_policy = true});
  const std::string what = topic_error_of([&] { ensure_topics(kafka(), 10000); });
  EXPECT_NE(what.find("topic t.silences has cleanup.policy=delete"), std::string::npos) << what;
}

TEST_F(topics_policy_test, a_topic_whose_settings_are_not_authorized_is_not_checked) {
  all_topics_right();
  // Wrong, but unreadable: tocsin cannot tell, and starts.
  broker_.set_topic("t.nflog", {.partitions = 4, .policy = "delete", .describe_error = 29});
  EXPECT_EQ(ensure_topics(kafka(), 10000).nflog_partitions, 4);
}

TEST_F(topics_policy_test, another_error_reading_a_topics_settings_is_refused) {
  all_topics_right();
  broker_.set_topic("t.hits", {.partitions = 2, .describe_error = 3});
  const std::string what = topic_error_of([&] { ensure_topics(kafka(), 10000); });
  EXPECT_NE(what.find("reading the settings of topic t.hits: refused by the script"),
            std::string::npos)
      << what;
}

TEST_F(topics_policy_test, an_answer_librdkafka_rejects_is_refused) {
  all_topics_right();
  broker_.describe_extra("t.unasked");  // librdkafka fails the whole request
  const std::string what = topic_error_of([&] { ensure_topics(kafka(), 10000); });
  EXPECT_NE(what.find("bus.kafka: reading topic settings: "), std::string::npos) << what;
}

TEST_F(topics_policy_test, missing_topics_are_created_with_their_policy_then_checked) {
  broker_.set_topic("t.alerts", {.partitions = 3, .policy = "delete"});
  broker_.on_create("t.silences", 0, {.partitions = 1, .policy = "compact"});
  broker_.on_create("t.nflog", 0, {.partitions = 6, .policy = "compact"});
  // Another router created this one first: fine, it is checked like the others.
  broker_.on_create("t.hits", 36, {.partitions = 6});
  broker_.on_create("t.oncall", 0, {.partitions = 6, .policy = "compact"});
  const topic_layout layout = ensure_topics(kafka(), 10000);
  EXPECT_EQ(layout.alerts_partitions, 3);
  EXPECT_EQ(layout.silences_partitions, 1);
  EXPECT_EQ(layout.nflog_partitions, 6);
  EXPECT_EQ(layout.hits_partitions, 6);
  EXPECT_EQ(layout.oncall_partitions, 6);
  EXPECT_EQ(
      broker_.create_requests(),
      (std::vector<std::string>{
          "t.silences cleanup.policy=compact", "t.nflog cleanup.policy=compact",
          "t.hits cleanup.policy=delete retention.ms=3600000", "t.oncall cleanup.policy=compact"}));
}

TEST_F(topics_policy_test, a_creation_the_brokers_refuse_names_the_topic) {
  all_topics_right();
  broker_.set_topic("t.hits", {.partitions = 0});  // reported with no partitions: missing
  broker_.on_create("t.hits", 44);                 // POLICY_VIOLATION
  const std::string what = topic_error_of([&] { ensure_topics(kafka(), 10000); });
  EXPECT_NE(what.find("bus.kafka: cannot create topic t.hits: "), std::string::npos) << what;
}

TEST_F(topics_policy_test, created_partitions_that_never_get_a_leader_are_an_error) {
  all_topics_right();
  broker_.set_topic("t.hits", {.partitions = 0});
  broker_.on_create("t.hits", 0, {.partitions = 2, .led = false});
  const std::string what = topic_error_of([&] { ensure_topics(kafka(), 1000); });
  EXPECT_NE(what.find("the topics were created but their partitions have no leader after 1 s"),
            std::string::npos)
      << what;
}

TEST_F(topics_policy_test, brokers_without_describe_configs_are_not_checked_but_accepted) {
  all_topics_right();
  broker_.set_topic("t.silences", {.partitions = 1, .policy = "delete"});  // wrong, unseen
  broker_.offer_describe_configs(false);
  EXPECT_EQ(ensure_topics(kafka(), 10000).silences_partitions, 1);
}

TEST_F(topics_policy_test, a_topic_listed_with_an_error_counts_as_missing_and_is_created) {
  all_topics_right();
  broker_.set_topic("t.hits", {.partitions = 2, .metadata_error = 29});
  broker_.on_create("t.hits", 0, {.partitions = 2});
  EXPECT_EQ(ensure_topics(kafka(), 10000).hits_partitions, 2);
  EXPECT_EQ(broker_.create_requests(),
            (std::vector<std::string>{"t.hits cleanup.policy=delete retention.ms=3600000"}));
}

TEST_F(topics_policy_test, a_created_topic_that_never_shows_up_is_an_error) {
  all_topics_right();
  broker_.set_topic("t.hits", {.partitions = 0});
  broker_.on_create("t.hits", 0, {.partitions = 0});  // "created", still listed without partitions
  const std::string what = topic_error_of([&] { ensure_topics(kafka(), 1000); });
  EXPECT_NE(what.find("the topics were created but their partitions have no leader after 1 s"),
            std::string::npos)
      << what;
}

}  // namespace
}  // namespace tocsin::kafka
