#include "tests/support/kafka_mock.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstdint>

#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "tests/support/process.hpp"

namespace tocsin::test {

mock_kafka_cluster::mock_kafka_cluster(int brokers) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The owning client never connects anywhere; keep it quiet.
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (handle_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("mock kafka: rd_kafka_new: ") + err);
  }
  cluster_ = rd_kafka_mock_cluster_new(handle_, brokers);
  if (cluster_ == nullptr) {
    rd_kafka_destroy(handle_);
    throw std::runtime_error("mock kafka: rd_kafka_mock_cluster_new failed");
  }
  bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster_);
}

mock_kafka_cluster::~mock_kafka_cluster() {
  rd_kafka_mock_cluster_destroy(cluster_);
  rd_kafka_destroy(handle_);
}

void mock_kafka_cluster::create_topic(const std::string& name, int partitions) {
  const rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 1);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("mock kafka: create topic " + name + ": " + rd_kafka_err2str(e));
  }
}

void mock_kafka_cluster::set_down(int broker_id) {
  rd_kafka_mock_broker_set_down(cluster_, broker_id);
}

void mock_kafka_cluster::set_up(int broker_id) { rd_kafka_mock_broker_set_up(cluster_, broker_id); }

void mock_kafka_cluster::push_request_errors(int api_key, const std::vector<int>& errors) {
  std::vector<rd_kafka_resp_err_t> codes;
  for (const int e : errors) codes.push_back(static_cast<rd_kafka_resp_err_t>(e));
  rd_kafka_mock_push_request_errors_array(cluster_, static_cast<std::int16_t>(api_key),
                                          codes.size(), codes.data());
}

void mock_kafka_cluster::fail_next_produce(rd_kafka_resp_err_t error) {
  constexpr int produce_api_key = 0;
  push_request_errors(produce_api_key, {error});
}

namespace {

std::string text_or_empty(const nlohmann::json& j, const char* name) {
  const auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::vector<kafka_record> kcat_read(const std::string& bootstraps, const std::string& topic,
                                    std::chrono::milliseconds timeout) {
  const auto kcat = find_program("kcat");
  if (kcat.empty()) throw std::runtime_error("kcat not found");
  const auto r = run_command(
      {kcat.string(), "-C", "-b", bootstraps, "-t", topic, "-o", "beginning", "-e", "-q", "-J"}, {},
      {}, timeout);
  if (r.exit_code != 0) {
    throw std::runtime_error("kcat exited " + std::to_string(r.exit_code) + ": " + r.stderr_text);
  }
  std::vector<kafka_record> out;
  std::istringstream lines(r.stdout_text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw std::runtime_error("kcat printed: " + line);
    kafka_record rec;
    rec.partition = j.value("partition", -1);
    rec.offset = j.value("offset", -1LL);
    rec.key = text_or_empty(j, "key");
    rec.value = text_or_empty(j, "payload");
    // Headers come as a flat array: ["name", "value", "name", "value", ...].
    if (const auto h = j.find("headers"); h != j.end() && h->is_array()) {
      for (std::size_t i = 0; i + 1 < h->size(); i += 2) {
        const auto& v = (*h)[i + 1];
        rec.headers[(*h)[i].get<std::string>()] = v.is_string() ? v.get<std::string>() : "";
      }
    }
    out.push_back(std::move(rec));
  }
  return out;
}

}  // namespace tocsin::test
