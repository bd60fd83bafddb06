// webhook: Alertmanager's webhook body, version 4, POSTed as JSON, with the notification's id in
// the X-Tocsin-Notification-Id header (the same on a re-send, so the receiver can drop repeats).

#include <charconv>

#include "sinks/http_post.hpp"
#include "sinks/notifier_factories.hpp"

namespace tocsin::sinks {
namespace {

class webhook_notifier final : public notifier {
 public:
  explicit webhook_notifier(const config::receiver_config& r) {
    request_.url = setting_or(r, "url");
    request_.timeout = duration_setting(r, "timeout", std::chrono::seconds(10));
    request_.bearer_token = read_secret_file(r, "bearer_token_file");
    request_.basic_username = setting_or(r, "basic_auth.username");
    if (!request_.basic_username.empty()) {
      request_.basic_password = read_secret_file(r, "basic_auth.password_file");
    }
    constexpr std::string_view header_prefix = "headers.";
    for (const auto& [key, value] : r.settings) {
      if (key.starts_with(header_prefix)) {
        request_.headers.push_back(key.substr(header_prefix.size()) + ": " + value);
      }
    }
    const std::string max = setting_or(r, "max_alerts", "0");
    std::from_chars(max.data(), max.data() + max.size(), max_alerts_);
  }

  delivery_result send(const notification& n) override {
    http_post_request request = request_;
    add_notification_id(request, n);
    request.body = webhook_v4_body(n, max_alerts_)
                       .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    return to_delivery_result(http_post(request));
  }

  [[nodiscard]] bool send_resolved_default() const override { return true; }

 private:
  http_post_request request_;  // everything but the body
  std::size_t max_alerts_ = 0;
};

}  // namespace

std::unique_ptr<notifier> make_webhook_notifier(const config::receiver_config& receiver) {
  return std::make_unique<webhook_notifier>(receiver);
}

}  // namespace tocsin::sinks
