#include "sinks/cluster.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>

#include "sinks/record_time.hpp"

namespace tocsin::sinks {
namespace {

std::int64_t to_ms(std::chrono::system_clock::time_point tp) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
}

bool read_set(const nlohmann::json& j, std::set<std::string>& out) {
  if (!j.is_array()) return false;
  for (const auto& item : j) {
    if (!item.is_string()) return false;
    out.insert(item.get<std::string>());
  }
  return true;
}

}  // namespace

std::string to_record(const nflog_record& r) {
  const nlohmann::json j = {{"v", 1},
                            {"receiver", r.receiver},
                            {"groupKey", r.group_key},
                            {"firing", r.firing},
                            {"resolved", r.resolved},
                            {"sentAt", to_ms(r.sent_at)}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<nflog_record> nflog_from_record(std::string_view record, std::string* problem) {
  const auto fail = [&](std::string why) -> std::optional<nflog_record> {
    if (problem != nullptr) *problem = std::move(why);
    return std::nullopt;
  };
  const auto j = nlohmann::json::parse(record, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("v") || !j["v"].is_number_integer()) {
    return fail("not a notification-log record");
  }
  if (j["v"].get<std::int64_t>() != 1) {
    return fail("notification-log record version " + j["v"].dump() + " (this tocsin reads 1)");
  }
  nflog_record r;
  if (!j.contains("receiver") || !j["receiver"].is_string() || !j.contains("groupKey") ||
      !j["groupKey"].is_string() || !j.contains("sentAt") || !j["sentAt"].is_number_integer() ||
      !j.contains("firing") || !read_set(j["firing"], r.firing) || !j.contains("resolved") ||
      !read_set(j["resolved"], r.resolved)) {
    return fail("a notification-log record without receiver, groupKey, firing, resolved, sentAt");
  }
  const auto sent_at = record_ms(j["sentAt"]);
  if (!sent_at) return fail("a notification-log record with sentAt out of range");
  r.receiver = j["receiver"].get<std::string>();
  r.group_key = j["groupKey"].get<std::string>();
  r.sent_at = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::milliseconds(*sent_at)));
  return r;
}

std::string to_record(const router_record& r) {
  const nlohmann::json j = {{"v", 1}, {"node", r.node}, {"routes", r.routes}, {"at", to_ms(r.at)}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<router_record> router_from_record(std::string_view record, std::string* problem) {
  const auto j = nlohmann::json::parse(record, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("v") || j["v"] != 1 || !j.contains("node") ||
      !j["node"].is_string() || !j.contains("routes") || !j["routes"].is_string() ||
      !j.contains("at") || !j["at"].is_number_integer()) {
    if (problem != nullptr) *problem = "not a v1 router record";
    return std::nullopt;
  }
  const auto at = record_ms(j["at"]);
  if (!at) {
    if (problem != nullptr) *problem = "a router record with \"at\" out of range";
    return std::nullopt;
  }
  router_record r;
  r.node = j["node"].get<std::string>();
  r.routes = j["routes"].get<std::string>();
  r.at = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::milliseconds(*at)));
  return r;
}

}  // namespace tocsin::sinks
