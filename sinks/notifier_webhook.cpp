// webhook: Alertmanager's webhook body, version 4, POSTed as JSON, with the notification's id in
// the X-Tocsin-Notification-Id header (the same on a re-send, so the receiver can drop repeats).
// With `payload`, the body is that structure instead, each of its texts a template (Go's or
// `{{name}}`, notification_text.hpp): values land inside JSON strings, so whatever an alert
// holds, the body stays valid JSON.

#include <optional>
#include <vector>

#include "sinks/http_post.hpp"
#include "sinks/notification_text.hpp"
#include "sinks/notifier_factories.hpp"

namespace tocsin::sinks {
namespace {

constexpr std::string_view setting_keys[] = {
    "url",        "max_alerts", "send_resolved", "bearer_token_file",
    "basic_auth", "headers",    "timeout",       "payload"};
constexpr std::string_view required_keys[] = {"url"};
constexpr std::string_view auth_keys[] = {"username", "password_file"};
constexpr std::string_view alertmanager_keys[] = {
    "url", "url_file", "max_alerts", "send_resolved", "http_config", "timeout", "payload"};

// A `payload`, compiled: a fixed JSON value, a template, or a list or mapping of them.
struct payload_node {
  config::text_tree::kind type = config::text_tree::kind::text;
  std::string name;                       // its key in the mapping that holds it
  std::optional<notification_text> text;  // a string leaf
  std::string fixed;                      // an unquoted number, true, false or null, as JSON
  std::vector<payload_node> items;

  [[nodiscard]] nlohmann::ordered_json render(const notification& n) const {
    switch (type) {
      case config::text_tree::kind::text:
        return text ? nlohmann::ordered_json(text->render(n))
                    : nlohmann::ordered_json::parse(fixed, nullptr, /*allow_exceptions=*/false);
      case config::text_tree::kind::list: {
        auto out = nlohmann::ordered_json::array();
        for (const payload_node& item : items) out.push_back(item.render(n));
        return out;
      }
      case config::text_tree::kind::map: {
        auto out = nlohmann::ordered_json::object();
        for (const payload_node& item : items) out[item.name] = item.render(n);
        return out;
      }
    }
    return nullptr;
  }
};

std::optional<payload_node> compile_payload(const config::text_tree& tree, text_reader& texts) {
  payload_node out;
  out.type = tree.type;
  out.name = tree.name;
  if (tree.type == config::text_tree::kind::text) {
    if (tree.plain) {
      // YAML's `3`, `true` and `null` stay a number, a bool and null in the JSON.
      auto value = nlohmann::ordered_json::parse(tree.text, nullptr, /*allow_exceptions=*/false);
      if (!value.is_discarded() && !value.is_string() && !value.is_structured()) {
        out.fixed = value.dump();
        return out;
      }
    }
    out.text = texts.parse(tree.path, tree.text, tree.where);
    if (!out.text) return std::nullopt;
    return out;
  }
  for (const config::text_tree& item : tree.items) {
    auto compiled = compile_payload(item, texts);
    if (!compiled) return std::nullopt;
    out.items.push_back(std::move(*compiled));
  }
  return out;
}

std::optional<payload_node> read_payload(config::section_reader& in,
                                         const config::receiver_config& receiver) {
  const auto tree = in.tree("payload");
  if (!tree) return std::nullopt;
  text_reader texts(in, receiver);
  return compile_payload(*tree, texts);
}

class webhook_notifier final : public notifier {
 public:
  webhook_notifier(http_post_request request, std::size_t max_alerts, bool send_resolved,
                   std::optional<payload_node> payload)
      : notifier(send_resolved),
        request_(std::move(request)),
        max_alerts_(max_alerts),
        payload_(std::move(payload)) {}

  delivery_result send(const notification& n) override {
    http_post_request request = request_;
    add_notification_id(request, n);
    request.body = json_body(payload_ ? payload_->render(n) : webhook_v4_body(n, max_alerts_));
    return to_delivery_result(http_post(request));
  }

 private:
  http_post_request request_;  // everything but the body
  std::size_t max_alerts_ = 0;
  std::optional<payload_node> payload_;
};

// `webhook_configs` items: Alertmanager's keys, and http_config for authentication.
std::unique_ptr<notifier> make_alertmanager_webhook(const config::receiver_config& receiver) {
  config::section_reader in(receiver, alertmanager_keys);
  http_post_request request;
  request.url = value_or_file(in, "url", value_kind::url).value_or("");
  constexpr std::string_view url_keys[] = {"url", "url_file"};
  in.require_one_of(url_keys);
  request.timeout = in.span("timeout").value_or(std::chrono::seconds(10));
  read_http_config(in, receiver, request);
  const std::size_t max_alerts = in.count("max_alerts", 0, 1'000'000'000).value_or(0);
  const bool send_resolved = in.flag("send_resolved").value_or(true);
  auto payload = read_payload(in, receiver);
  in.check();
  return std::make_unique<webhook_notifier>(std::move(request), max_alerts, send_resolved,
                                            std::move(payload));
}

}  // namespace

std::unique_ptr<notifier> make_webhook_notifier(const config::receiver_config& receiver) {
  if (receiver.syntax == config::receiver_syntax::alertmanager) {
    return make_alertmanager_webhook(receiver);
  }
  config::section_reader in(receiver, setting_keys);
  in.require(required_keys);
  http_post_request request;
  request.url = in.url("url").value_or("");
  request.timeout = in.span("timeout").value_or(std::chrono::seconds(10));
  request.bearer_token = in.secret_file("bearer_token_file").value_or("");
  if (in.has("basic_auth")) {
    if (in.has("bearer_token_file")) {
      in.error("basic_auth", "give bearer_token_file or basic_auth, not both");
    }
    config::section_reader auth = in.section("basic_auth", auth_keys);
    auth.require(auth_keys);
    request.basic_username = auth.text("username").value_or("");
    request.basic_password = auth.secret_file("password_file").value_or("");
  }
  if (const auto headers = in.text_map("headers")) {
    for (const auto& [name, value] : *headers) request.headers.push_back(name + ": " + value);
  }
  const std::size_t max_alerts = in.count("max_alerts", 0, 1'000'000'000).value_or(0);
  const bool send_resolved = in.flag("send_resolved").value_or(true);
  auto payload = read_payload(in, receiver);
  in.check();
  return std::make_unique<webhook_notifier>(std::move(request), max_alerts, send_resolved,
                                            std::move(payload));
}

}  // namespace tocsin::sinks
