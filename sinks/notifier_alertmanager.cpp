// alertmanager: forwards the alerts to another Alertmanager (or tocsin) through its v2 API.

#include "sinks/http_post.hpp"
#include "sinks/notifier_factories.hpp"

namespace tocsin::sinks {
namespace {

constexpr std::string_view setting_keys[] = {"url", "send_resolved"};
constexpr std::string_view required_keys[] = {"url"};

class alertmanager_notifier final : public notifier {
 public:
  alertmanager_notifier(std::string base_url, bool send_resolved) : notifier(send_resolved) {
    while (base_url.ends_with('/')) base_url.pop_back();
    request_.url = base_url + "/api/v2/alerts";
  }

  delivery_result send(const notification& n) override {
    // Alertmanager's postableAlert: the receiving side computes status and fingerprint itself.
    auto alerts = nlohmann::ordered_json::array();
    for (const rules::alert& a : n.alerts) {
      nlohmann::ordered_json alert = {
          {"labels", a.labels},
          {"annotations", a.annotations},
          {"startsAt", format_time(a.starts_at)},
      };
      // A firing alert's end is when it resolves unless re-sent; without one the peer applies its
      // own resolve_timeout.
      if (a.ends_at > a.starts_at) alert["endsAt"] = format_time(a.ends_at);
      alert["generatorURL"] = a.generator_url;
      alerts.push_back(std::move(alert));
    }
    http_post_request request = request_;
    add_notification_id(request, n);  // Alertmanager ignores it; a proxy in between may use it
    request.body = alerts.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    return to_delivery_result(http_post(request));
  }

 private:
  http_post_request request_;
};

}  // namespace

std::unique_ptr<notifier> make_alertmanager_notifier(const config::receiver_config& receiver) {
  config::section_reader in(receiver, setting_keys);
  in.require(required_keys);
  std::string url = in.url("url").value_or("");
  const bool send_resolved = in.flag("send_resolved").value_or(true);
  in.check();
  return std::make_unique<alertmanager_notifier>(std::move(url), send_resolved);
}

}  // namespace tocsin::sinks
