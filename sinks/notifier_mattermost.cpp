// mattermost: an incoming webhook with one Slack-compatible attachment, as Alertmanager's
// mattermost notifier (v0.30+) sends it: the text, title and colour in the attachment, and
// channel, username and icon overrides at the top.

#include "sinks/http_post.hpp"
#include "sinks/notification_text.hpp"
#include "sinks/notifier_factories.hpp"

namespace tocsin::sinks {
namespace {

// Mattermost's post limit is 16383 characters; Alertmanager cuts the message text there (which it
// leaves empty with one attachment). We cut the attachment's text, title and fallback, where the
// long texts are.
constexpr std::size_t max_text_chars = 16383;

// Alertmanager's names, in the order it sends them: the message's fields, its one attachment's,
// and `type` after the attachments. Each is a text.
constexpr std::string_view message_keys[] = {"channel", "username", "icon_url", "icon_emoji"};
constexpr std::string_view attachment_keys[] = {
    "fallback", "color",      "pretext",   "text",   "author_name", "author_link", "author_icon",
    "title",    "title_link", "thumb_url", "footer", "footer_icon", "image_url"};

constexpr std::string_view setting_keys[] = {"webhook_url",   "webhook_url_file",
                                             "send_resolved", "channel",
                                             "username",      "icon_url",
                                             "icon_emoji",    "type",
                                             "fallback",      "color",
                                             "pretext",       "text",
                                             "author_name",   "author_link",
                                             "author_icon",   "title",
                                             "title_link",    "thumb_url",
                                             "footer",        "footer_icon",
                                             "image_url",     "http_config"};

using texts = std::map<std::string, notification_text, std::less<>>;

class mattermost_notifier final : public notifier {
 public:
  mattermost_notifier(http_post_request http, std::string url, texts settings, bool send_resolved)
      : notifier(send_resolved), texts_(std::move(settings)) {
    request_ = std::move(http);
    request_.url = std::move(url);
  }

  delivery_result send(const notification& n) override {
    http_post_request request = request_;
    add_notification_id(request, n);
    request.body = json_body(render(n));
    return to_delivery_result(http_post(request));
  }

 private:
  // The setting `key` rendered, else its default.
  [[nodiscard]] std::string value(std::string_view key, const notification& n) const {
    if (const auto it = texts_.find(key); it != texts_.end()) return it->second.render(n);
    // Alertmanager's defaults (default.tmpl "mattermost.default.*"), the texts short ones
    // (notification_text.hpp). Its default username "Alertmanager" is left to the webhook.
    if (key == "color") return n.firing() ? "danger" : "good";
    if (key == "title") return default_title(n);
    if (key == "text") return default_text(n);
    if (key == "title_link") return n.external_url;
    if (key == "fallback") {
      const std::string title = value("title", n), link = value("title_link", n);
      return link.empty() ? title : title + " | " + link;
    }
    return {};
  }

  [[nodiscard]] nlohmann::ordered_json render(const notification& n) const {
    const auto add = [&](nlohmann::ordered_json& to, std::string_view key) {
      std::string v = value(key, n);
      if (key == "text" || key == "title" || key == "fallback") {
        v = truncate_utf8(v, max_text_chars);
      }
      if (!v.empty()) to[std::string(key)] = std::move(v);  // Alertmanager's omitempty
    };
    nlohmann::ordered_json attachment = nlohmann::ordered_json::object();
    for (const std::string_view key : attachment_keys) add(attachment, key);
    nlohmann::ordered_json body = nlohmann::ordered_json::object();
    for (const std::string_view key : message_keys) add(body, key);
    body["attachments"] = nlohmann::ordered_json::array({std::move(attachment)});
    add(body, "type");
    return body;
  }

  http_post_request request_;
  texts texts_;
};

}  // namespace

std::unique_ptr<notifier> make_mattermost_notifier(const config::receiver_config& receiver) {
  config::section_reader in(receiver, setting_keys);
  const std::string url =
      value_or_file(in, "webhook_url", value_kind::url, presence::required).value_or("");
  text_reader reader(in, receiver);
  texts settings;
  for (const std::string_view key : setting_keys) {
    if (key == "webhook_url" || key == "webhook_url_file" || key == "send_resolved" ||
        key == "http_config") {
      continue;
    }
    if (auto v = reader.read(key)) settings.emplace(std::string(key), std::move(*v));
  }
  const bool send_resolved = in.flag("send_resolved").value_or(true);
  http_post_request http;
  read_http_config(in, receiver, http);
  in.check();
  return std::make_unique<mattermost_notifier>(std::move(http), url, std::move(settings),
                                               send_resolved);
}

}  // namespace tocsin::sinks
