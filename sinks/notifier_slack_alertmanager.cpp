// slack, written as an Alertmanager `slack_configs` item: Alertmanager's message (its
// notify/slack/slack.go, 0.25): one attachment whose every text is a template, with
// Alertmanager's defaults from default.tmpl, `fields`, `actions`, `mrkdwn_in`, and
// global.slack_api_url behind api_url.

#include <array>
#include <optional>

#include "sinks/http_post.hpp"
#include "sinks/notification_text.hpp"
#include "sinks/notifier_factories.hpp"

namespace tocsin::sinks {
namespace {

// Slack cuts a title around 1024 characters; Alertmanager truncates there.
constexpr std::size_t max_title_chars = 1024;

constexpr std::string_view setting_keys[] = {
    "api_url",    "api_url_file", "channel",    "username",      "color",        "title",
    "title_link", "pretext",      "text",       "fields",        "short_fields", "footer",
    "fallback",   "callback_id",  "icon_emoji", "icon_url",      "image_url",    "thumb_url",
    "link_names", "mrkdwn_in",    "actions",    "send_resolved", "http_config"};
constexpr std::string_view field_keys[] = {"title", "value", "short"};
constexpr std::string_view action_keys[] = {"type", "text",  "url",    "style",
                                            "name", "value", "confirm"};
constexpr std::string_view confirm_keys[] = {"title", "text", "ok_text", "dismiss_text"};

// An optional template; renders "" when absent.
struct text_field {
  std::optional<notification_text> text;
  [[nodiscard]] std::string render(const notification& n) const {
    return text ? text->render(n) : std::string();
  }
};

struct slack_field {
  text_field title, value;
  std::optional<bool> is_short;
};

struct slack_action {
  text_field type, text, url, style, name, value;
  std::optional<std::array<text_field, 4>> confirm;  // title, text, ok_text, dismiss_text
};

struct slack_settings {
  http_post_request http;
  text_field channel, username, icon_emoji, icon_url, color, title, title_link, pretext, text,
      fallback, callback_id, image_url, thumb_url, footer;
  std::vector<slack_field> fields;
  std::vector<slack_action> actions;
  std::vector<std::string> mrkdwn_in;
  bool short_fields = false;
  bool link_names = false;
  bool send_resolved = false;
};

// Go's json `omitempty` for a string.
void set_unless_empty(nlohmann::ordered_json& object, const char* key, std::string value) {
  if (!value.empty()) object[key] = std::move(value);
}

class alertmanager_slack_notifier final : public notifier {
 public:
  explicit alertmanager_slack_notifier(slack_settings s)
      : notifier(s.send_resolved), s_(std::move(s)) {}

  delivery_result send(const notification& n) override {
    http_post_request request = s_.http;
    add_notification_id(request, n);
    request.body = json_body(render(n));
    return to_delivery_result(http_post(request));
  }

 private:
  [[nodiscard]] nlohmann::ordered_json render(const notification& n) const {
    nlohmann::ordered_json attachment = nlohmann::ordered_json::object();
    set_unless_empty(attachment, "title", truncate_utf8(s_.title.render(n), max_title_chars));
    set_unless_empty(attachment, "title_link", s_.title_link.render(n));
    set_unless_empty(attachment, "pretext", s_.pretext.render(n));
    attachment["text"] = s_.text.render(n);
    attachment["fallback"] = s_.fallback.render(n);
    attachment["callback_id"] = s_.callback_id.render(n);
    if (!s_.fields.empty()) {
      auto fields = nlohmann::ordered_json::array();
      for (const slack_field& f : s_.fields) {
        nlohmann::ordered_json field = nlohmann::ordered_json::object();
        set_unless_empty(field, "title", f.title.render(n));
        set_unless_empty(field, "value", f.value.render(n));
        field["short"] = f.is_short.value_or(s_.short_fields);
        fields.push_back(std::move(field));
      }
      attachment["fields"] = std::move(fields);
    }
    if (!s_.actions.empty()) {
      auto actions = nlohmann::ordered_json::array();
      for (const slack_action& a : s_.actions) {
        nlohmann::ordered_json action = nlohmann::ordered_json::object();
        set_unless_empty(action, "type", a.type.render(n));
        set_unless_empty(action, "text", a.text.render(n));
        set_unless_empty(action, "url", a.url.render(n));
        set_unless_empty(action, "style", a.style.render(n));
        set_unless_empty(action, "name", a.name.render(n));
        set_unless_empty(action, "value", a.value.render(n));
        if (a.confirm) {
          nlohmann::ordered_json confirm = nlohmann::ordered_json::object();
          for (std::size_t i = 0; i < std::size(confirm_keys); ++i) {
            set_unless_empty(confirm, confirm_keys[i].data(), (*a.confirm).at(i).render(n));
          }
          action["confirm"] = std::move(confirm);
        }
        actions.push_back(std::move(action));
      }
      attachment["actions"] = std::move(actions);
    }
    set_unless_empty(attachment, "image_url", s_.image_url.render(n));
    set_unless_empty(attachment, "thumb_url", s_.thumb_url.render(n));
    attachment["footer"] = s_.footer.render(n);
    set_unless_empty(attachment, "color", s_.color.render(n));
    attachment["mrkdwn_in"] = s_.mrkdwn_in;

    nlohmann::ordered_json body = nlohmann::ordered_json::object();
    set_unless_empty(body, "channel", s_.channel.render(n));
    set_unless_empty(body, "username", s_.username.render(n));
    set_unless_empty(body, "icon_emoji", s_.icon_emoji.render(n));
    set_unless_empty(body, "icon_url", s_.icon_url.render(n));
    if (s_.link_names) body["link_names"] = true;
    body["attachments"] = nlohmann::ordered_json::array({std::move(attachment)});
    // A page (DESIGN.md, "On-call") names the person in the message text, so Slack notifies them.
    if (n.page) {
      const std::string who = n.page->slack.empty() ? n.page->user : "<@" + n.page->slack + ">";
      std::string line = n.page->resolved
                             ? who + " resolved"
                             : who + " you are paged (step " + std::to_string(n.page->step) + ")";
      if (!n.page->resolved && !n.page->ack_url.empty()) {
        line += " <" + n.page->ack_url + "|Acknowledge>";
      }
      body["text"] = line;
    }
    return body;
  }

  slack_settings s_;
};

}  // namespace

std::unique_ptr<notifier> make_alertmanager_slack_notifier(
    const config::receiver_config& receiver) {
  config::section_reader in(receiver, setting_keys);
  slack_settings s;
  std::string url =
      value_or_file(in, "api_url", value_kind::url).value_or(global_of(receiver).slack_api_url);
  if (url.empty() && !in.has("api_url") && !in.has("api_url_file")) {
    in.error("api_url", "missing api_url (or api_url_file, or global.slack_api_url)");
  }
  text_reader texts(in, receiver);
  const auto read = [&](text_field& to, std::string_view key, std::string_view fallback = {}) {
    to.text = texts.read(key, fallback);
  };
  read(s.channel, "channel");
  read(s.username, "username", R"({{ template "slack.default.username" . }})");
  read(s.color, "color", R"({{ if eq .Status "firing" }}danger{{ else }}good{{ end }})");
  read(s.title, "title", R"({{ template "slack.default.title" . }})");
  read(s.title_link, "title_link", R"({{ template "slack.default.titlelink" . }})");
  read(s.pretext, "pretext", R"({{ template "slack.default.pretext" . }})");
  read(s.text, "text", R"({{ template "slack.default.text" . }})");
  read(s.fallback, "fallback", R"({{ template "slack.default.fallback" . }})");
  read(s.callback_id, "callback_id", R"({{ template "slack.default.callbackid" . }})");
  read(s.icon_emoji, "icon_emoji", R"({{ template "slack.default.iconemoji" . }})");
  read(s.icon_url, "icon_url", R"({{ template "slack.default.iconurl" . }})");
  read(s.footer, "footer", R"({{ template "slack.default.footer" . }})");
  read(s.image_url, "image_url");
  read(s.thumb_url, "thumb_url");
  for (config::section_reader& f : in.section_list("fields", field_keys)) {
    text_reader field_texts(f, receiver);
    slack_field field;
    field.title.text = field_texts.read("title");
    field.value.text = field_texts.read("value");
    field.is_short = f.flag("short");
    constexpr std::string_view required[] = {"title", "value"};
    f.require(required);
    s.fields.push_back(std::move(field));
  }
  for (config::section_reader& a : in.section_list("actions", action_keys)) {
    text_reader action_texts(a, receiver);
    slack_action action;
    action.type.text = action_texts.read("type");
    action.text.text = action_texts.read("text");
    action.url.text = action_texts.read("url");
    action.style.text = action_texts.read("style");
    action.name.text = action_texts.read("name");
    action.value.text = action_texts.read("value");
    constexpr std::string_view required[] = {"type", "text"};
    a.require(required);
    if (a.has("confirm")) {
      config::section_reader c = a.section("confirm", confirm_keys);
      text_reader confirm_texts(c, receiver);
      std::array<text_field, 4> confirm;
      for (std::size_t i = 0; i < std::size(confirm_keys); ++i) {
        confirm.at(i).text = confirm_texts.read(confirm_keys[i]);
      }
      action.confirm = std::move(confirm);
    }
    s.actions.push_back(std::move(action));
  }
  s.mrkdwn_in = in.text_list("mrkdwn_in").value_or(std::vector<std::string>{});
  if (s.mrkdwn_in.empty()) s.mrkdwn_in = {"fallback", "pretext", "text"};
  s.short_fields = in.flag("short_fields").value_or(false);
  s.link_names = in.flag("link_names").value_or(false);
  s.send_resolved = in.flag("send_resolved").value_or(false);
  read_http_config(in, receiver, s.http);
  s.http.url = std::move(url);
  in.check();
  return std::make_unique<alertmanager_slack_notifier>(std::move(s));
}

}  // namespace tocsin::sinks
