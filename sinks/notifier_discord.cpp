// discord: a channel webhook with one embed, as Alertmanager's discord notifier sends it: the
// title and message in the embed, coloured by status, and an optional plain `content` line.

#include "sinks/http_post.hpp"
#include "sinks/notification_text.hpp"
#include "sinks/notifier_factories.hpp"

namespace tocsin::sinks {
namespace {

// Discord's embed limits (title 256, description 4096) and a message's content (2000).
constexpr std::size_t max_title_chars = 256;
constexpr std::size_t max_description_chars = 4096;
constexpr std::size_t max_content_chars = 2000;

// Alertmanager's colours: red while firing, green once resolved.
constexpr int colour_firing = 0x992D22;
constexpr int colour_resolved = 0x2ECC71;

constexpr std::string_view setting_keys[] = {"webhook_url", "webhook_url_file", "title",
                                             "message",     "content",          "username",
                                             "avatar_url",  "send_resolved",    "http_config"};

struct discord_settings {
  std::string url;
  http_post_request http;  // Alertmanager's http_config (and global.http_config)
  std::optional<notification_text> title, message, content;  // replace the defaults
  std::string username, avatar_url;
  bool send_resolved = true;
};

class discord_notifier final : public notifier {
 public:
  explicit discord_notifier(discord_settings s)
      : notifier(s.send_resolved),
        title_(std::move(s.title)),
        message_(std::move(s.message)),
        content_(std::move(s.content)),
        username_(std::move(s.username)),
        avatar_url_(std::move(s.avatar_url)) {
    request_ = std::move(s.http);
    request_.url = std::move(s.url);
  }

  delivery_result send(const notification& n) override {
    http_post_request request = request_;
    add_notification_id(request, n);
    request.body = json_body(render(n));
    return to_delivery_result(http_post(request));
  }

 private:
  [[nodiscard]] nlohmann::ordered_json render(const notification& n) const {
    const std::string title = title_ ? title_->render(n) : default_title(n);
    const std::string description = message_ ? message_->render(n) : default_text(n);
    const std::string content = content_ ? content_->render(n) : std::string();  // AM: none
    nlohmann::ordered_json embed = {
        {"title", truncate_utf8(title, max_title_chars)},
        {"description", truncate_utf8(description, max_description_chars)},
        {"color", n.firing() ? colour_firing : colour_resolved},
    };
    nlohmann::ordered_json body = {
        {"content", truncate_utf8(content, max_content_chars)},
        {"embeds", nlohmann::ordered_json::array({std::move(embed)})},
    };
    if (!username_.empty()) body["username"] = username_;
    if (!avatar_url_.empty()) body["avatar_url"] = avatar_url_;
    return body;
  }

  http_post_request request_;
  std::optional<notification_text> title_, message_, content_;
  std::string username_, avatar_url_;
};

}  // namespace

std::unique_ptr<notifier> make_discord_notifier(const config::receiver_config& receiver) {
  config::section_reader in(receiver, setting_keys);
  discord_settings s;
  s.url = value_or_file(in, "webhook_url", value_kind::url, presence::required).value_or("");
  text_reader texts(in, receiver);
  s.title = texts.read("title", R"({{ template "discord.default.title" . }})");
  s.message = texts.read("message", R"({{ template "discord.default.message" . }})");
  s.content = texts.read("content");
  s.username = in.text("username").value_or("");
  s.avatar_url = in.url("avatar_url").value_or("");
  s.send_resolved = in.flag("send_resolved").value_or(true);
  read_http_config(in, receiver, s.http);
  in.check();
  return std::make_unique<discord_notifier>(std::move(s));
}

}  // namespace tocsin::sinks
