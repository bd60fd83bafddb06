#include "sinks/alertmanager_api.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/http_query.hpp"
#include "core/rfc3339.hpp"
#include "core/version_info.hpp"

namespace tocsin::sinks {
namespace {

using sys_clock = std::chrono::system_clock;
using json = nlohmann::json;

// ---- HTTP helpers -------------------------------------------------------------------------------

std::string path_of(const std::string& target) { return target.substr(0, target.find('?')); }

http_reply json_reply(unsigned status, const json& body) {
  // Label values may be any bytes that reached us; replace invalid UTF-8 rather than throw.
  return {status, "application/json",
          body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"};
}

// Alertmanager answers errors with a JSON string (the spec's BadRequest schema is `string`),
// which is what amtool prints after the status.
http_reply error_reply(unsigned status, const std::string& message) {
  return json_reply(status, json(message));
}

http_reply method_not_allowed(const std::string& allowed) {
  return error_reply(405, "method not allowed; use " + allowed);
}

// ---- Times --------------------------------------------------------------------------------------

// An API time field: nullopt when absent, null, empty or Go's zero time (amtool sends
// "0001-01-01T00:00:00.000Z" for an unset --start/--end, a date system_clock cannot even hold).
// `ok` turns false for anything else that is not RFC 3339.
std::optional<sys_clock::time_point> read_time(const json& object, const char* key, bool& ok,
                                               std::string& problem) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    ok = false;
    problem = std::string(key) + " is not a string";
    return std::nullopt;
  }
  const auto& text = it->get_ref<const std::string&>();
  if (text.empty() || text.starts_with("0001-01-01T00:00:00")) return std::nullopt;
  // Before 1678 or after 2262 the nanosecond clock overflows; no real alert lives there.
  if (text.size() < 4 || text.compare(0, 4, "1678") < 0 || text.compare(0, 4, "2262") > 0) {
    ok = false;
    problem = std::string(key) + " is out of range: " + text;
    return std::nullopt;
  }
  auto tp = parse_rfc3339(text);
  if (!tp) {
    ok = false;
    problem = std::string(key) + " is not an RFC 3339 time: " + text;
  }
  return tp;
}

// ---- Matchers -----------------------------------------------------------------------------------

// A `filter` value: one matcher or a `{a="1", b=~"2"}` list (Alertmanager's ParseMatchers),
// read with the config's matcher grammar.
std::optional<std::vector<label_matcher>> parse_filter(std::string_view text,
                                                       std::string& problem) {
  return label_matcher::parse_list(text, &problem);
}

// Every `filter` query parameter; nullopt (400) when one does not parse.
std::optional<std::vector<label_matcher>> filters_of(const query_params& params,
                                                     std::string& problem) {
  std::vector<label_matcher> all;
  const auto [begin, end] = params.equal_range("filter");
  for (auto it = begin; it != end; ++it) {
    auto some = parse_filter(it->second, problem);
    if (!some) {
      problem = "bad filter " + it->second + ": " + problem;
      return std::nullopt;
    }
    all.insert(all.end(), some->begin(), some->end());
  }
  return all;
}

// A boolean query parameter; absent or empty means `fallback` (go-openapi's rule).
std::optional<bool> bool_param(const query_params& params, const std::string& name, bool fallback,
                               std::string& problem) {
  const auto it = params.find(name);
  if (it == params.end() || it->second.empty()) return fallback;
  if (it->second == "true" || it->second == "1") return true;
  if (it->second == "false" || it->second == "0") return false;
  problem = name + " must be true or false, not " + it->second;
  return std::nullopt;
}

bool valid_label_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// A JSON object of strings with valid label names; false and `problem` otherwise.
bool read_label_set(const json& object, const char* key, std::map<std::string, std::string>& out,
                    std::string& problem) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return true;
  if (!it->is_object()) {
    problem = std::string(key) + " is not an object";
    return false;
  }
  for (const auto& [name, value] : it->items()) {
    if (!valid_label_name(name)) {
      problem = std::string(key) + ": invalid name \"" + name + "\"";
      return false;
    }
    if (!value.is_string()) {
      problem = std::string(key) + ": value of " + name + " is not a string";
      return false;
    }
    out[name] = value.get<std::string>();
  }
  return true;
}

// ---- Alerts -------------------------------------------------------------------------------------

// One postable alert → rules::alert; nullopt and `problem` for one Alertmanager would refuse.
std::optional<rules::alert> read_postable_alert(const json& j, sys_clock::time_point now,
                                                std::string& problem) {
  if (!j.is_object()) {
    problem = "alert is not an object";
    return std::nullopt;
  }
  rules::alert a;
  if (!read_label_set(j, "labels", a.labels, problem) ||
      !read_label_set(j, "annotations", a.annotations, problem)) {
    return std::nullopt;
  }
  if (a.labels.empty()) {
    problem = "at least one label pair required";
    return std::nullopt;
  }
  bool ok = true;
  const auto starts_at = read_time(j, "startsAt", ok, problem);
  const auto ends_at = read_time(j, "endsAt", ok, problem);
  if (!ok) return std::nullopt;
  if (const auto it = j.find("generatorURL"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) {
      problem = "generatorURL is not a string";
      return std::nullopt;
    }
    a.generator_url = it->get<std::string>();
  }
  a.starts_at = starts_at.value_or(now);
  if (ends_at) {
    if (*ends_at < a.starts_at) {
      problem = "start time must be before end time";
      return std::nullopt;
    }
    a.ends_at = *ends_at;
    a.firing = *ends_at > now;
  } else {
    // No endsAt: the router resolves it after resolve_timeout unless it is posted again.
    a.ends_at = {};
    a.firing = true;
  }
  a.fingerprint = rules::fingerprint(a.labels);
  return a;
}

json string_array(const std::vector<std::string>& items) {
  json out = json::array();
  for (const auto& s : items) out.push_back(s);
  return out;
}

// `muted_by`: the time intervals that mute the alert's group (route_tree::muted_by). As in
// Alertmanager >= 0.28 (api/v2/compat.go AlertToOpenAPIAlert), a muted alert's state is
// "suppressed" whatever silences and inhibitions say, and /api/v2/alerts, which shows no group,
// passes none: there `mutedBy` is always [].
json gettable_alert(const alert_view& v, const std::vector<std::string>& muted_by = {}) {
  json receivers = json::array();
  for (const auto& name : v.receivers) receivers.push_back({{"name", name}});
  json out = {
      {"labels", v.alert.labels},
      {"annotations", v.alert.annotations},
      {"startsAt", format_rfc3339_millis(v.alert.starts_at)},
      {"endsAt", format_rfc3339_millis(v.alert.ends_at)},
      {"updatedAt", format_rfc3339_millis(v.updated_at)},
      {"fingerprint", v.alert.fingerprint},
      {"receivers", std::move(receivers)},
      {"status",
       {{"state", muted_by.empty() ? v.state : std::string("suppressed")},
        {"silencedBy", string_array(v.silenced_by)},
        {"inhibitedBy", string_array(v.inhibited_by)},
        {"mutedBy", string_array(muted_by)}}},
  };
  if (!v.alert.generator_url.empty()) out["generatorURL"] = v.alert.generator_url;
  return out;
}

// ---- Silences -----------------------------------------------------------------------------------

const char* state_name(silence_state s) {
  switch (s) {
    case silence_state::pending:
      return "pending";
    case silence_state::active:
      return "active";
    case silence_state::expired:
      return "expired";
  }
  return "expired";
}

json gettable_silence(const silence& s, sys_clock::time_point now) {
  json matchers = json::array();
  for (const auto& m : s.matchers) {
    const bool is_regex = m.op() == match_op::regex || m.op() == match_op::not_regex;
    const bool is_equal = m.op() == match_op::equal || m.op() == match_op::regex;
    matchers.push_back(
        {{"name", m.name()}, {"value", m.value()}, {"isRegex", is_regex}, {"isEqual", is_equal}});
  }
  return {
      {"id", s.id},
      {"matchers", std::move(matchers)},
      {"startsAt", format_rfc3339_millis(s.starts_at)},
      {"endsAt", format_rfc3339_millis(s.ends_at)},
      {"updatedAt", format_rfc3339_millis(s.updated_at)},
      {"createdBy", s.created_by},
      {"comment", s.comment},
      {"status", {{"state", state_name(s.state(now))}}},
  };
}

// The label set a silence's equality matchers spell, which `filter` matchers are checked
// against (Alertmanager's CheckSilenceMatchesFilterLabels).
rules::label_set silence_labels(const silence& s) {
  rules::label_set labels;
  for (const auto& m : s.matchers) labels[m.name()] = m.value();
  return labels;
}

// Alertmanager's order: active by soonest end, then pending by soonest start, then expired by
// latest end.
void sort_silences(std::vector<silence>& silences, sys_clock::time_point now) {
  const auto rank = [now](const silence& s) {
    switch (s.state(now)) {
      case silence_state::active:
        return 0;
      case silence_state::pending:
        return 1;
      case silence_state::expired:
        return 2;
    }
    return 2;
  };
  std::stable_sort(silences.begin(), silences.end(), [&](const silence& a, const silence& b) {
    const int ra = rank(a), rb = rank(b);
    if (ra != rb) return ra < rb;
    if (ra == 0) return a.ends_at < b.ends_at;
    if (ra == 1) return a.starts_at < b.starts_at;
    return a.ends_at > b.ends_at;
  });
}

bool read_string(const json& object, const char* key, std::string& out, std::string& problem) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return true;
  if (!it->is_string()) {
    problem = std::string(key) + " is not a string";
    return false;
  }
  out = it->get<std::string>();
  return true;
}

bool read_bool(const json& object, const char* key, bool fallback, bool& out,
               std::string& problem) {
  out = fallback;
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return true;
  if (!it->is_boolean()) {
    problem = std::string(key) + " is not a boolean";
    return false;
  }
  out = it->get<bool>();
  return true;
}

std::optional<label_matcher> read_silence_matcher(const json& j, std::string& problem) {
  if (!j.is_object()) {
    problem = "matcher is not an object";
    return std::nullopt;
  }
  std::string name, value;
  bool is_regex = false, is_equal = true;
  if (!read_string(j, "name", name, problem) || !read_string(j, "value", value, problem) ||
      !read_bool(j, "isRegex", false, is_regex, problem) ||
      !read_bool(j, "isEqual", true, is_equal, problem)) {
    return std::nullopt;
  }
  if (!valid_label_name(name)) {
    problem = "invalid label name \"" + name + "\" in matcher";
    return std::nullopt;
  }
  const match_op op = is_regex ? (is_equal ? match_op::regex : match_op::not_regex)
                               : (is_equal ? match_op::equal : match_op::not_equal);
  return label_matcher::make(std::move(name), std::move(value), op, &problem);
}

// A postable silence; nullopt and `problem` for one Alertmanager would refuse.
std::optional<silence> read_postable_silence(const json& j, sys_clock::time_point now,
                                             std::string& problem) {
  if (!j.is_object()) {
    problem = "silence is not an object";
    return std::nullopt;
  }
  silence s;
  if (!read_string(j, "id", s.id, problem) || !read_string(j, "createdBy", s.created_by, problem) ||
      !read_string(j, "comment", s.comment, problem)) {
    return std::nullopt;
  }
  const auto matchers = j.find("matchers");
  if (matchers == j.end() || !matchers->is_array() || matchers->empty()) {
    problem = "at least one matcher required";
    return std::nullopt;
  }
  for (const auto& m : *matchers) {
    auto matcher = read_silence_matcher(m, problem);
    if (!matcher) return std::nullopt;
    s.matchers.push_back(std::move(*matcher));
  }
  // A silence whose matchers all match an empty label set would silence everything.
  if (matches_all(s.matchers, {})) {
    problem = "at least one matcher must not match the empty string";
    return std::nullopt;
  }
  bool ok = true;
  const auto starts_at = read_time(j, "startsAt", ok, problem);
  const auto ends_at = read_time(j, "endsAt", ok, problem);
  if (!ok) return std::nullopt;
  if (!starts_at || !ends_at) {
    problem = "startsAt and endsAt are required";
    return std::nullopt;
  }
  if (*ends_at < *starts_at) {
    problem = "start time must be before end time";
    return std::nullopt;
  }
  if (*ends_at < now) {
    problem = "end time can't be in the past";
    return std::nullopt;
  }
  // As given: the store moves a new silence's past start to now, and an update of an active
  // silence must keep its start to stay the same silence.
  s.starts_at = *starts_at;
  s.ends_at = *ends_at;
  s.updated_at = now;
  return s;
}

// ---- The API ------------------------------------------------------------------------------------

class alertmanager_api {
 public:
  alertmanager_api(alert_router& router, alertmanager_api_options options)
      : router_(router),
        options_(std::move(options)),
        time_(router.time_source()),
        started_at_(time_.now()) {}

  http_reply status(const http_request_view& req) const {
    if (req.method != "GET") return method_not_allowed("GET");
    return json_reply(200, {
                               {"cluster", {{"status", "disabled"}, {"peers", json::array()}}},
                               {"versionInfo",
                                {{"version", TOCSIN_VERSION},
                                 {"revision", "unknown"},
                                 {"branch", "unknown"},
                                 {"buildUser", "unknown"},
                                 {"buildDate", "unknown"},
                                 // Required by the schema; tocsin has no Go in it.
                                 {"goVersion", "none"}}},
                               {"config", {{"original", options_.config_text}}},
                               {"uptime", format_rfc3339_millis(started_at_)},
                           });
  }

  http_reply receivers(const http_request_view& req) const {
    if (req.method != "GET") return method_not_allowed("GET");
    json out = json::array();
    for (const auto& name : options_.receiver_names) out.push_back({{"name", name}});
    return json_reply(200, out);
  }

  http_reply alerts(const http_request_view& req) const {
    if (req.method == "GET") return get_alerts(req);
    if (req.method == "POST") return post_alerts(req);
    return method_not_allowed("GET, POST");
  }

  http_reply silences(const http_request_view& req) const {
    if (req.method == "GET") return get_silences(req);
    if (req.method == "POST") return post_silence(req);
    return method_not_allowed("GET, POST");
  }

  // /api/v2/silence/{id}
  http_reply one_silence(const http_request_view& req) const {
    const std::string id = path_of(req.target).substr(std::string_view(silence_prefix).size());
    if (id.empty() || id.find('/') != std::string::npos) return error_reply(404, "not found");
    auto& store = router_.silences();
    const auto now = time_.now();
    if (req.method == "GET") {
      const auto s = store.get(id);
      if (!s) return error_reply(404, "silence " + id + " not found");
      return json_reply(200, gettable_silence(*s, now));
    }
    if (req.method == "DELETE") {
      const auto s = store.get(id);
      if (!s) return error_reply(404, "silence " + id + " not found");
      // Expiring an expired silence changes nothing; answer 200 so retries are harmless.
      if (s->state(now) != silence_state::expired && !store.expire(id, now)) {
        return error_reply(404, "silence " + id + " not found");
      }
      return {200, "application/json", ""};
    }
    return method_not_allowed("GET, DELETE");
  }

  static constexpr const char* silence_prefix = "/api/v2/silence/";

 private:
  // The query parameters /api/v2/alerts and /api/v2/alerts/groups share, and which alerts they
  // keep.
  struct alert_selection {
    bool active = true, silenced = true, inhibited = true, unprocessed = true;
    std::vector<label_matcher> filters;
    std::unique_ptr<re2::RE2>
        receiver;  // a regex over receiver names, anchored like Alertmanager's

    // Resolved alerts wait in the router until notified; the API shows firing ones only.
    [[nodiscard]] bool keeps(const alert_view& v, sys_clock::time_point now) const {
      const bool resolved =
          !v.alert.firing || (v.alert.ends_at != sys_clock::time_point{} && v.alert.ends_at <= now);
      if (resolved) return false;
      if (!active && v.state == "active") return false;
      if (!unprocessed && v.state == "unprocessed") return false;
      if (!silenced && !v.silenced_by.empty()) return false;
      if (!inhibited && !v.inhibited_by.empty()) return false;
      return matches_all(filters, v.alert.labels);
    }
    [[nodiscard]] bool keeps_receiver(const std::string& name) const {
      return !receiver || re2::RE2::FullMatch(name, *receiver);
    }
  };

  // nullopt, and `problem` says why, for a bad parameter.
  static std::optional<alert_selection> selection_of(const query_params& params,
                                                     std::string& problem) {
    const auto active = bool_param(params, "active", true, problem);
    const auto silenced = bool_param(params, "silenced", true, problem);
    const auto inhibited = bool_param(params, "inhibited", true, problem);
    const auto unprocessed = bool_param(params, "unprocessed", true, problem);
    auto filters = filters_of(params, problem);
    if (!active || !silenced || !inhibited || !unprocessed || !filters) return std::nullopt;
    alert_selection out{*active, *silenced, *inhibited, *unprocessed, std::move(*filters), {}};
    if (const auto it = params.find("receiver"); it != params.end() && !it->second.empty()) {
      out.receiver = std::make_unique<re2::RE2>("^(?:" + it->second + ")$", re2::RE2::Quiet);
      if (!out.receiver->ok()) {
        problem = "bad receiver regex: " + out.receiver->error();
        return std::nullopt;
      }
    }
    return out;
  }

  http_reply get_alerts(const http_request_view& req) const {
    std::string problem;
    const auto selection = selection_of(parse_query(req.target), problem);
    if (!selection) return error_reply(400, problem);
    const auto now = time_.now();
    auto views = router_.alerts();
    std::sort(views.begin(), views.end(), [](const alert_view& a, const alert_view& b) {
      return a.alert.fingerprint < b.alert.fingerprint;
    });
    json out = json::array();
    for (const auto& v : views) {
      if (!selection->keeps(v, now)) continue;
      if (selection->receiver &&
          std::none_of(v.receivers.begin(), v.receivers.end(),
                       [&](const std::string& r) { return selection->keeps_receiver(r); })) {
        continue;
      }
      out.push_back(gettable_alert(v));
    }
    return json_reply(200, out);
  }

 public:
  // Alertmanager's alertGroups (with 0.28's `mutedBy` and `muted` parameter), plus what tocsin
  // knows of each group: `groupKey`, its `ack` and `escalation` (null when none), and per alert
  // `fired` (copies received) and `search` (the filter that finds its log lines in the archive,
  // when options.search_filter is set). A group's mute is worked out at the time of the request;
  // Alertmanager marks a group when it flushes it, so there it shows from its next flush.
  http_reply alert_groups(const http_request_view& req) const {
    if (req.method != "GET") return method_not_allowed("GET");
    std::string problem;
    const auto params = parse_query(req.target);
    const auto selection = selection_of(params, problem);
    if (!selection) return error_reply(400, problem);
    // Alertmanager >= 0.28: muted=false leaves out the groups a time interval mutes.
    const auto muted = bool_param(params, "muted", true, problem);
    if (!muted) return error_reply(400, problem);
    const auto now = time_.now();
    std::map<std::pair<std::string, std::string>, oncall::escalation> escalations;
    for (auto& e : router_.oncall().escalations()) {
      escalations.emplace(std::pair(e.receiver, e.group_key), std::move(e));
    }
    auto groups = router_.groups();
    std::sort(groups.begin(), groups.end(), [](const group_view& a, const group_view& b) {
      return std::tie(a.receiver, a.key) < std::tie(b.receiver, b.key);
    });
    json out = json::array();
    for (const group_view& g : groups) {
      if (!selection->keeps_receiver(g.receiver)) continue;
      if (!*muted && !g.muted_by.empty()) continue;
      json alerts = json::array();
      for (const alert_view& v : g.alerts) {
        // By the alert's own state, as Alertmanager filters before it applies the group's mute.
        if (!selection->keeps(v, now)) continue;
        json a = gettable_alert(v, g.muted_by);
        a["fired"] = v.received;
        if (options_.search_filter) a["search"] = options_.search_filter(v.alert);
        alerts.push_back(std::move(a));
      }
      if (alerts.empty()) continue;
      json ack = nullptr, escalation = nullptr;
      if (const auto it = escalations.find({g.receiver, g.key}); it != escalations.end()) {
        const oncall::escalation& e = it->second;
        escalation = {{"policy", e.policy}, {"step", e.last_step}, {"paged", e.paged}};
        if (e.acked()) {
          ack = {{"by", e.acked_by},
                 {"at", format_rfc3339_millis(
                            sys_clock::time_point(std::chrono::milliseconds(e.acked_ms)))},
                 {"comment", e.ack_comment}};
        }
      }
      out.push_back({{"labels", g.labels},
                     {"receiver", {{"name", g.receiver}}},
                     {"alerts", std::move(alerts)},
                     {"groupKey", g.key},
                     {"ack", std::move(ack)},
                     {"escalation", std::move(escalation)}});
    }
    return json_reply(200, out);
  }

 private:
  // Like Alertmanager, valid alerts are taken even when others in the batch are refused; the
  // answer is then 400 naming the refused ones.
  http_reply post_alerts(const http_request_view& req) const {
    const json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) return error_reply(400, "body is not JSON");
    if (!body.is_array()) return error_reply(400, "body is not a JSON array of alerts");
    const auto now = time_.now();
    std::string refused;
    for (std::size_t i = 0; i < body.size(); ++i) {
      std::string problem;
      if (auto a = read_postable_alert(body[i], now, problem)) {
        router_.receive(*a);
        if (options_.publish_alert) options_.publish_alert(*a);
      } else {
        if (!refused.empty()) refused += "; ";
        refused += "alert " + std::to_string(i) + ": " + problem;
      }
    }
    if (!refused.empty()) return error_reply(400, refused);
    return {200, "application/json", ""};
  }

  http_reply get_silences(const http_request_view& req) const {
    const auto params = parse_query(req.target);
    std::string problem;
    const auto filters = filters_of(params, problem);
    if (!filters) return error_reply(400, problem);
    std::vector<std::string> creators;
    const auto [begin, end] = params.equal_range("creator");
    for (auto it = begin; it != end; ++it) creators.push_back(it->second);
    const auto now = time_.now();
    auto all = router_.silences().list();
    sort_silences(all, now);
    json out = json::array();
    for (const auto& s : all) {
      if (!matches_all(*filters, silence_labels(s))) continue;
      if (!creators.empty() &&
          std::find(creators.begin(), creators.end(), s.created_by) == creators.end()) {
        continue;
      }
      out.push_back(gettable_silence(s, now));
    }
    return json_reply(200, out);
  }

  http_reply post_silence(const http_request_view& req) const {
    const json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) return error_reply(400, "body is not JSON");
    std::string problem;
    auto s = read_postable_silence(body, time_.now(), problem);
    if (!s) return error_reply(400, "Failed to create silence: " + problem);
    auto& store = router_.silences();
    if (!s->id.empty() && !store.get(s->id)) {
      return error_reply(404, "silence " + s->id + " not found");
    }
    const auto id = store.upsert(std::move(*s), &problem);
    if (!id) return error_reply(400, "Failed to create silence: " + problem);
    return json_reply(200, {{"silenceID", *id}});
  }

  alert_router& router_;
  alertmanager_api_options options_;
  // The router's: a silence or an alert is expired by the same clock here as in the router.
  clock& time_;
  sys_clock::time_point started_at_;
};

}  // namespace

void register_alertmanager_api(admin_server& admin, alert_router& router,
                               alertmanager_api_options options) {
  metrics_registry* metrics = options.metrics;
  auto api = std::make_shared<alertmanager_api>(router, std::move(options));
  // `route` is the path template, so a silence id does not become a label value.
  const auto counted = [metrics](std::string route, auto method) -> http_handler {
    return [metrics, route = std::move(route), method](const http_request_view& req) {
      http_reply reply = method(req);
      if (metrics != nullptr) {
        metrics
            ->get_counter("tocsin_api_requests_total",
                          "Alertmanager API requests by path and code.",
                          {{"path", route}, {"code", std::to_string(reply.status)}})
            .inc();
      }
      return reply;
    };
  };
  admin.handle("/api/v2/status", counted("/api/v2/status", [api](const http_request_view& req) {
                 return api->status(req);
               }));
  admin.handle("/api/v2/receivers",
               counted("/api/v2/receivers",
                       [api](const http_request_view& req) { return api->receivers(req); }));
  admin.handle("/api/v2/alerts", counted("/api/v2/alerts", [api](const http_request_view& req) {
                 return api->alerts(req);
               }));
  admin.handle("/api/v2/alerts/groups",
               counted("/api/v2/alerts/groups",
                       [api](const http_request_view& req) { return api->alert_groups(req); }));
  admin.handle("/api/v2/silences", counted("/api/v2/silences", [api](const http_request_view& req) {
                 return api->silences(req);
               }));
  admin.handle_prefix(alertmanager_api::silence_prefix,
                      counted("/api/v2/silence/{id}", [api](const http_request_view& req) {
                        return api->one_silence(req);
                      }));
}

}  // namespace tocsin::sinks
