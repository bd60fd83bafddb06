// opsgenie: Opsgenie's Alert API v2, as Alertmanager's opsgenie notifier uses it. One Opsgenie
// alert per group, its alias the SHA-256 of the group key: created while any alert fires (a
// repeat only bumps its count; `update_alerts` also rewrites its message and description) and
// closed when all have resolved.
//
// Priority: the `priority` setting, else the group's severity label (the common one, else the
// worst among the firing alerts): critical P1, error P2, warning P3, info P5; none otherwise
// (Opsgenie then uses P3). Alertmanager has no such mapping: it sends only the setting.

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

#include "sinks/http_post.hpp"
#include "sinks/notification_text.hpp"
#include "sinks/notifier_factories.hpp"

namespace tocsin::sinks {
namespace {

// The Alert API's limits (docs.opsgenie.com "Alert API", create alert): message 130
// characters, description 15000, source 100, entity 512, note 25000.
constexpr std::size_t max_message_chars = 130;
constexpr std::size_t max_description_chars = 15000;
constexpr std::size_t max_source_chars = 100;
constexpr std::size_t max_entity_chars = 512;
constexpr std::size_t max_note_chars = 25000;

constexpr std::string_view setting_keys[] = {
    "api_key",  "api_key_file",  "api_url",       "message",    "description", "source",
    "details",  "entity",        "responders",    "actions",    "tags",        "note",
    "priority", "update_alerts", "send_resolved", "http_config"};
constexpr std::string_view responder_keys[] = {"id", "name", "username", "type"};
constexpr std::string_view responder_types[] = {"team", "teams", "user", "escalation", "schedule"};
constexpr std::string_view priorities[] = {"P1", "P2", "P3", "P4", "P5"};

// Alertmanager's alias: notify.Key.Hash(), the lower-case hex SHA-256 of the group key.
std::string alias_of(std::string_view group_key) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(group_key.data(), group_key.size(), digest.data(), &size, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    std::array<char, 3> byte{};
    std::snprintf(byte.data(), byte.size(), "%02x", digest[i]);
    hex += byte.data();
  }
  return hex;
}

int severity_rank(std::string_view s) {
  if (s == "critical") return 4;
  if (s == "error") return 3;
  if (s == "warning") return 2;
  if (s == "info") return 1;
  return 0;
}

// The priority the group's severity label gives (see the top), "" for none.
std::string priority_from_severity(const notification& n) {
  std::string severity;
  const rules::label_set common = n.common_labels();
  if (const auto it = common.find("severity"); it != common.end()) {
    severity = it->second;
  } else {
    for (const rules::alert& a : n.alerts) {
      const auto l = a.labels.find("severity");
      if (a.firing && l != a.labels.end() && severity_rank(l->second) > severity_rank(severity)) {
        severity = l->second;
      }
    }
  }
  switch (severity_rank(severity)) {
    case 4:
      return "P1";
    case 3:
      return "P2";
    case 2:
      return "P3";
    case 1:
      return "P5";
    default:
      return "";
  }
}

// Alertmanager's safeSplit: the non-empty pieces of a comma-separated list.
std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t comma = std::min(s.find(',', start), s.size());
    std::string piece = s.substr(start, comma - start);
    if (!piece.empty()) out.push_back(std::move(piece));
    start = comma + 1;
  }
  return out;
}

// Trims spaces at both ends (Alertmanager trims the whole list before splitting it).
std::string trimmed(const std::string& s) {
  const std::size_t first = s.find_first_not_of(" \t\n\r");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\n\r") - first + 1);
}

struct responder {
  std::optional<notification_text> id, name, username;
  notification_text type{""};
};

struct opsgenie_settings {
  http_post_request http;  // Alertmanager's http_config (and global.http_config)
  std::string api_key;
  std::string api_url = "https://api.opsgenie.com/";
  std::optional<notification_text> message, description, source, entity, actions, tags, note,
      priority;
  std::map<std::string, notification_text> details;
  std::vector<responder> responders;
  bool update_alerts = false;
  bool send_resolved = true;
};

class opsgenie_notifier final : public notifier {
 public:
  explicit opsgenie_notifier(opsgenie_settings s) : notifier(s.send_resolved), s_(std::move(s)) {}

  delivery_result send(const notification& n) override;

 private:
  [[nodiscard]] http_post_request request(const std::string& method, const std::string& path,
                                          const nlohmann::ordered_json& body,
                                          const notification& n) const;
  [[nodiscard]] nlohmann::ordered_json create_body(const notification& n,
                                                   const std::string& alias) const;
  [[nodiscard]] std::string source(const notification& n) const {
    const std::string fallback = n.external_url.empty() ? "tocsin" : n.external_url;
    return truncate_utf8(s_.source ? s_.source->render(n) : fallback, max_source_chars);
  }
  [[nodiscard]] static std::string render(const std::optional<notification_text>& text,
                                          const notification& n) {
    return text ? text->render(n) : std::string();
  }

  opsgenie_settings s_;
};

http_post_request opsgenie_notifier::request(const std::string& method, const std::string& path,
                                             const nlohmann::ordered_json& body,
                                             const notification& n) const {
  http_post_request r = s_.http;
  r.method = method;
  r.url = s_.api_url + path;
  r.headers.push_back("Authorization: GenieKey " + s_.api_key);
  add_notification_id(r, n);
  r.body = json_body(body);
  return r;
}

nlohmann::ordered_json opsgenie_notifier::create_body(const notification& n,
                                                      const std::string& alias) const {
  // The common labels with the `details` settings over them, sorted (a Go map's JSON).
  rules::label_set details = n.common_labels();
  for (const auto& [name, text] : s_.details) details[name] = text.render(n);

  auto responders = nlohmann::ordered_json::array();
  for (const responder& r : s_.responders) {
    const std::string id = render(r.id, n), name = render(r.name, n);
    const std::string username = render(r.username, n), type = r.type.render(n);
    if (id.empty() && name.empty() && username.empty()) continue;  // a template gave nothing
    if (type == "teams") {  // `name` lists teams: one responder each
      for (const std::string& team : split_list(trimmed(name))) {
        responders.push_back({{"name", team}, {"type", "team"}});
      }
      continue;
    }
    nlohmann::ordered_json one = nlohmann::ordered_json::object();
    if (!id.empty()) one["id"] = id;
    if (!name.empty()) one["name"] = name;
    if (!username.empty()) one["username"] = username;
    one["type"] = type;
    responders.push_back(std::move(one));
  }

  const std::string message = s_.message ? s_.message->render(n) : default_title(n);
  const std::string description = s_.description ? s_.description->render(n) : default_text(n);
  std::string priority = render(s_.priority, n);
  // A templated priority that renders to something else falls back like an unset one.
  if (std::find(std::begin(priorities), std::end(priorities), priority) == std::end(priorities)) {
    priority = priority_from_severity(n);
  }

  // Alertmanager's field order; the fields it omits when empty are left out here too.
  nlohmann::ordered_json body = {
      {"alias", alias},
      {"message", truncate_utf8(message, max_message_chars)},
  };
  if (!description.empty()) body["description"] = truncate_utf8(description, max_description_chars);
  body["details"] = details;
  body["source"] = source(n);
  if (!responders.empty()) body["responders"] = std::move(responders);
  if (const auto tags = split_list(trimmed(render(s_.tags, n))); !tags.empty()) body["tags"] = tags;
  if (const std::string note = render(s_.note, n); !note.empty()) {
    body["note"] = truncate_utf8(note, max_note_chars);
  }
  if (!priority.empty()) body["priority"] = priority;
  if (const std::string entity = render(s_.entity, n); !entity.empty()) {
    body["entity"] = truncate_utf8(entity, max_entity_chars);
  }
  if (const auto actions = split_list(trimmed(render(s_.actions, n))); !actions.empty()) {
    body["actions"] = actions;
  }
  return body;
}

delivery_result opsgenie_notifier::send(const notification& n) {
  const std::string alias = alias_of(n.group_key);
  const std::string by_alias = "?identifierType=alias";
  if (!n.firing()) {
    const nlohmann::ordered_json close = {{"source", source(n)}};
    return to_delivery_result(
        http_post(request("POST", "v2/alerts/" + alias + "/close" + by_alias, close, n)));
  }
  const nlohmann::ordered_json create = create_body(n, alias);
  delivery_result result = to_delivery_result(http_post(request("POST", "v2/alerts", create, n)));
  if (result.result != delivery_result::outcome::delivered || !s_.update_alerts) return result;
  // An alert that was open already keeps its first message and description unless updated.
  // A failed update is retried with the create before it, which Opsgenie deduplicates by alias.
  const nlohmann::ordered_json message = {{"message", create["message"]}};
  result = to_delivery_result(
      http_post(request("PUT", "v2/alerts/" + alias + "/message" + by_alias, message, n)));
  if (result.result != delivery_result::outcome::delivered) return result;
  nlohmann::ordered_json description = nlohmann::ordered_json::object();
  if (create.contains("description")) description["description"] = create["description"];
  return to_delivery_result(
      http_post(request("PUT", "v2/alerts/" + alias + "/description" + by_alias, description, n)));
}

// A text setting that may hold a placeholder: checked against `allowed` only when it does not.
std::optional<std::string> maybe_templated_choice(config::section_reader& in, std::string_view key,
                                                  config::names allowed) {
  auto v = in.text(key);
  if (v && v->find("{{") == std::string::npos) v = in.choice(key, allowed);
  return v;
}

}  // namespace

std::unique_ptr<notifier> make_opsgenie_notifier(const config::receiver_config& receiver) {
  config::section_reader in(receiver, setting_keys);
  opsgenie_settings s;
  const config::global_config& global = global_of(receiver);
  s.api_key = value_or_file(in, "api_key").value_or(global.opsgenie_api_key);
  if (!in.has("api_key") && !in.has("api_key_file") && s.api_key.empty()) {
    in.error("api_key", "missing api_key (or api_key_file, or global.opsgenie_api_key)");
  }
  if (auto v = in.url("api_url")) {
    s.api_url = std::move(*v);
  } else if (!global.opsgenie_api_url.empty()) {
    s.api_url = global.opsgenie_api_url;
  }
  if (!s.api_url.ends_with('/')) s.api_url += '/';  // the API paths are appended to it
  text_reader texts(in, receiver);
  s.message = texts.read("message", R"({{ template "opsgenie.default.message" . }})");
  s.description = texts.read("description", R"({{ template "opsgenie.default.description" . }})");
  s.source = texts.read("source", R"({{ template "opsgenie.default.source" . }})");
  s.entity = texts.read("entity");
  s.actions = texts.read("actions");
  s.tags = texts.read("tags");
  s.note = texts.read("note");
  if (auto v = maybe_templated_choice(in, "priority", priorities)) {
    s.priority = texts.parse("priority", *v);
  }
  if (auto details = in.text_map("details")) {
    for (const auto& [name, value] : *details) {
      if (auto text = texts.parse("details", value)) s.details.emplace(name, std::move(*text));
    }
  }
  for (config::section_reader& r : in.section_list("responders", responder_keys)) {
    if (!r.has("id") && !r.has("name") && !r.has("username")) {
      r.error("", "a responder needs one of 'id', 'name' or 'username'");
    }
    constexpr std::string_view type_key[] = {"type"};
    r.require(type_key);
    responder one;
    text_reader responder_texts(r, receiver);
    one.id = responder_texts.read("id");
    one.name = responder_texts.read("name");
    one.username = responder_texts.read("username");
    if (auto v = r.text("type")) {
      // Alertmanager takes the type in any case, and checks it only when it is not templated.
      std::string type = *v;
      if (type.find("{{") == std::string::npos) {
        std::transform(type.begin(), type.end(), type.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (std::find(std::begin(responder_types), std::end(responder_types), type) ==
            std::end(responder_types)) {
          r.error("type", "invalid value " + config::quote(*v) +
                              "; expected one of team, teams, user, escalation, schedule");
        }
      }
      if (auto text = responder_texts.parse("type", type)) one.type = std::move(*text);
    }
    s.responders.push_back(std::move(one));
  }
  s.update_alerts = in.flag("update_alerts").value_or(false);
  s.send_resolved = in.flag("send_resolved").value_or(true);
  read_http_config(in, receiver, s.http);
  in.check();
  return std::make_unique<opsgenie_notifier>(std::move(s));
}

}  // namespace tocsin::sinks
