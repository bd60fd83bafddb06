#include "kafka/client_config.hpp"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

namespace tocsin::kafka {
namespace {

using settings = std::vector<std::pair<std::string, std::string>>;

settings role_defaults(const config::kafka_config& kafka, client_role role) {
  switch (role) {
    case client_role::alert_producer:
      return {
          {"client.id", "tocsin-alerts"},
          {"enable.idempotence", "true"},
          {"acks", "all"},
          {"linger.ms", "5"},
          {"compression.type", "zstd"},
          // librdkafka's default is 5 minutes; an alert should reach the disk spool, where a
          // crash cannot lose it, well before that.
          {"message.timeout.ms", "30000"},
      };
    case client_role::log_producer:
      return {
          {"client.id", "tocsin-logs"},
          {"acks", "all"},
          {"linger.ms", "20"},
          {"compression.type", "zstd"},
          {"queue.buffering.max.messages", "100000"},
      };
    case client_role::state_producer:
      return {
          {"client.id", "tocsin-state"},
          {"enable.idempotence", "true"},
          {"acks", "all"},
          {"linger.ms", "0"},
          {"message.timeout.ms", "30000"},
      };
    case client_role::reader:
      // assign()s partitions and never joins or commits; librdkafka still wants a group.id.
      return {
          {"client.id", "tocsin-router"},   {"group.id", kafka.group + ".reader"},
          {"enable.auto.commit", "false"},  {"enable.auto.offset.store", "false"},
          {"enable.partition.eof", "true"}, {"auto.offset.reset", "earliest"},
      };
    case client_role::group_member:
      return {
          {"client.id", "tocsin-router"},
          {"group.id", kafka.group},
          {"enable.auto.commit", "false"},
          {"enable.auto.offset.store", "false"},
          {"enable.partition.eof", "true"},
          {"auto.offset.reset", "earliest"},
          // A router that dies or stalls hands its groups over after this (DESIGN.md).
          {"session.timeout.ms", "10000"},
          {"heartbeat.interval.ms", "1000"},
          // A router that stops polling (partition_owner_options::healthy) leaves after this.
          {"max.poll.interval.ms", "30000"},
      };
    case client_role::admin:
      return {{"client.id", "tocsin-admin"}};
  }
  return {};
}

std::string describe_property(const config::kafka_config& kafka, const std::string& name) {
  const auto it = kafka.property_where.find(name);
  const config::source_location& where =
      it != kafka.property_where.end() ? it->second : kafka.where;
  return config::location_prefix(where) + "bus.kafka.properties." + name;
}

// Everything but the operator's properties.
settings our_settings(const config::kafka_config& kafka, client_role role) {
  settings out = role_defaults(kafka, role);
  out.emplace_back("bootstrap.servers", kafka.brokers);
  return out;
}

}  // namespace

settings client_settings(const config::kafka_config& kafka, client_role role) {
  settings out = our_settings(kafka, role);
  for (const auto& [name, value] : kafka.properties) out.emplace_back(name, value);
  // The one setting tocsin keeps for itself: a router's windows and notification log are read
  // again whole on each assignment, which the eager protocol's all-or-nothing rebalance gives
  // and a cooperative one (partitions kept across rebalances) would not.
  if (role == client_role::group_member) out.emplace_back("partition.assignment.strategy", "range");
  return out;
}

namespace {

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

}  // namespace

client_config_error::client_config_error(std::vector<std::string> errors)
    : std::runtime_error(join_lines(errors)), errors_(std::move(errors)) {}

std::unique_ptr<RdKafka::Conf> make_conf(const config::kafka_config& kafka, client_role role) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::vector<std::string> errors;
  std::string errstr;

  // Ours first; a rejection here is a bug or an unusual librdkafka build, still reported.
  for (const auto& [name, value] : our_settings(kafka, role)) {
    if (conf->set(name, value, errstr) != RdKafka::Conf::CONF_OK) {
      const std::string what =
          name == "bootstrap.servers" ? "bus.kafka.brokers" : "built-in setting " + name;
      errors.push_back(config::location_prefix(kafka.where) + what + ": " + errstr);
    }
  }
  // Then the operator's. A property of another role (message.timeout.ms on the consumer) is
  // accepted here; librdkafka only warns about it when the client is created.
  for (const auto& [name, value] : kafka.properties) {
    if (conf->set(name, value, errstr) != RdKafka::Conf::CONF_OK) {
      errors.push_back(describe_property(kafka, name) + ": " + errstr);
    }
  }
  if (!errors.empty()) throw client_config_error(std::move(errors));
  return conf;
}

namespace {

// Creates (and at once destroys) a client from `conf`, so the checks librdkafka only makes then
// run too: conflicting settings (acks=1 with idempotence), unreadable certificate files, an
// unsupported SASL mechanism. No broker is contacted: bootstrap.servers is cleared first.
std::string creation_problem(RdKafka::Conf& conf, client_role role) {
  std::string errstr;
  conf.set("bootstrap.servers", "", errstr);
  conf.set("log_level", "0", errstr);  // no "no bootstrap.servers" notice on stderr
  if (role == client_role::reader || role == client_role::group_member) {
    std::unique_ptr<RdKafka::KafkaConsumer> client(RdKafka::KafkaConsumer::create(&conf, errstr));
    return client ? std::string() : errstr;
  }
  std::unique_ptr<RdKafka::Producer> client(RdKafka::Producer::create(&conf, errstr));
  return client ? std::string() : errstr;
}

}  // namespace

std::vector<std::string> validate(const config::kafka_config& kafka) {
  std::vector<std::string> all;
  const auto add = [&](const std::string& error) {
    if (std::find(all.begin(), all.end(), error) == all.end()) all.push_back(error);
  };
  for (const auto role :
       {client_role::alert_producer, client_role::log_producer, client_role::state_producer,
        client_role::reader, client_role::group_member, client_role::admin}) {
    try {
      auto conf = make_conf(kafka, role);
      if (const std::string problem = creation_problem(*conf, role); !problem.empty()) {
        add(config::location_prefix(kafka.where) + "bus.kafka.properties: " + problem);
      }
    } catch (const client_config_error& e) {
      for (const auto& error : e.errors()) add(error);
    }
  }
  return all;
}

log_events::log_events(std::string client, std::function<void()> on_fatal)
    : client_(std::move(client)), on_fatal_(std::move(on_fatal)) {}

void log_events::event_cb(RdKafka::Event& event) {
  switch (event.type()) {
    case RdKafka::Event::EVENT_LOG: {
      // librdkafka uses syslog levels; a broker going away is LOG_ERR there, a warning here.
      spdlog::level::level_enum level = spdlog::level::debug;
      switch (event.severity()) {
        case RdKafka::Event::EVENT_SEVERITY_EMERG:
        case RdKafka::Event::EVENT_SEVERITY_ALERT:
        case RdKafka::Event::EVENT_SEVERITY_CRITICAL:
          level = spdlog::level::err;
          break;
        case RdKafka::Event::EVENT_SEVERITY_ERROR:
        case RdKafka::Event::EVENT_SEVERITY_WARNING:
          level = spdlog::level::warn;
          break;
        case RdKafka::Event::EVENT_SEVERITY_NOTICE:
        case RdKafka::Event::EVENT_SEVERITY_INFO:
          level = spdlog::level::info;
          break;
        case RdKafka::Event::EVENT_SEVERITY_DEBUG:
          level = spdlog::level::debug;
          break;
      }
      // These also arrive as error events (logged below): once is enough.
      if (event.fac() == "FAIL" || event.fac() == "FATAL") level = spdlog::level::debug;
      spdlog::log(level, "kafka: {}: {} {}", client_, event.fac(), event.str());
      break;
    }
    case RdKafka::Event::EVENT_ERROR:
      if (event.fatal()) {
        spdlog::error("kafka: {}: fatal error {}: {}", client_, RdKafka::err2str(event.err()),
                      event.str());
        if (on_fatal_) on_fatal_();
      } else {
        spdlog::warn("kafka: {}: {}: {}", client_, RdKafka::err2str(event.err()), event.str());
      }
      break;
    default:  // statistics and throttling are not enabled
      break;
  }
}

std::string error_label(RdKafka::ErrorCode err) {
  const char* name = rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err));
  std::string out = name != nullptr ? name : "unknown";
  out.erase(0, out.find_first_not_of('_'));
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace tocsin::kafka
