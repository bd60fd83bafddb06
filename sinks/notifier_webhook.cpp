// webhook: Alertmanager's webhook body, version 4, POSTed as JSON, with the notification's id in
// the X-Tocsin-Notification-Id header (the same on a re-send, so the receiver can drop repeats).

#include "sinks/http_post.hpp"
#include "sinks/notifier_factories.hpp"

namespace tocsin::sinks {
namespace {

constexpr std::string_view setting_keys[] = {
    "url", "max_alerts", "send_resolved", "bearer_token_file", "basic_auth", "headers", "timeout"};
constexpr std::string_view required_keys[] = {"url"};
constexpr std::string_view auth_keys[] = {"username", "password_file"};
constexpr std::string_view alertmanager_keys[] = {"url",           "url_file",    "max_alerts",
                                                  "send_resolved", "http_config", "timeout"};

class webhook_notifier final : public notifier {
 public:
  webhook_notifier(http_post_request request, std::size_t max_alerts, bool send_resolved)
      : notifier(send_resolved), request_(std::move(request)), max_alerts_(max_alerts) {}

  delivery_result send(const notification& n) override {
    http_post_request request = request_;
    add_notification_id(request, n);
    request.body = webhook_v4_body(n, max_alerts_)
                       .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    return to_delivery_result(http_post(request));
  }

 private:
  http_post_request request_;  // everything but the body
  std::size_t max_alerts_ = 0;
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
  in.check();
  return std::make_unique<webhook_notifier>(std::move(request), max_alerts, send_resolved);
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
  in.check();
  return std::make_unique<webhook_notifier>(std::move(request), max_alerts, send_resolved);
}

}  // namespace tocsin::sinks
