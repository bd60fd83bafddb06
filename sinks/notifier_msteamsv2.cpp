// msteamsv2: a Teams Workflows ("Post to a channel when a webhook request is received") webhook;
// the body is the Adaptive Card message Alertmanager's msteamsv2 notifier sends: a heading
// coloured by status and a wrapped text block.

#include "sinks/http_post.hpp"
#include "sinks/notification_text.hpp"
#include "sinks/notifier_factories.hpp"

namespace tocsin::sinks {
namespace {

// Teams refuses a message over 28 KB (413); Alertmanager does not check, we cut the text so the
// whole body stays under it. The title is cut first, so a huge one cannot take all the room.
constexpr std::size_t max_body_bytes = 28 * 1024;
constexpr std::size_t max_title_chars = 1024;

constexpr std::string_view setting_keys[] = {"webhook_url", "webhook_url_file", "title",
                                             "text",        "send_resolved",    "http_config"};

struct msteamsv2_settings {
  std::string url;
  http_post_request http;  // Alertmanager's http_config (and global.http_config)
  std::optional<notification_text> title, text;  // replace the defaults
  bool send_resolved = true;
};

// The message of Alertmanager's notify/msteamsv2 (v0.28+), field for field.
nlohmann::ordered_json teams_message(const std::string& title, const std::string& text,
                                     bool firing) {
  return {
      {"type", "message"},
      {"attachments",
       {{
           {"contentType", "application/vnd.microsoft.card.adaptive"},
           {"contentUrl", nullptr},
           {"content",
            {
                {"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
                {"type", "AdaptiveCard"},
                {"version", "1.2"},
                {"body",
                 {
                     {
                         {"type", "TextBlock"},
                         {"text", title},
                         {"weight", "Bolder"},
                         {"size", "Medium"},
                         {"wrap", true},
                         {"style", "heading"},
                         {"color", firing ? "Attention" : "Good"},
                     },
                     {
                         {"type", "TextBlock"},
                         {"text", text},
                         {"wrap", true},
                     },
                 }},
                {"msteams", {{"width", "full"}}},
            }},
       }}},
  };
}

// At most `max_bytes` bytes of UTF-8 `text`, ending in "…" when it was cut.
std::string truncate_utf8_bytes(std::string_view text, std::size_t max_bytes) {
  constexpr std::string_view marker = "…";
  if (text.size() <= max_bytes) return std::string(text);
  if (max_bytes < marker.size()) return {};
  std::size_t cut = max_bytes - marker.size();
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + std::string(marker);
}

class msteamsv2_notifier final : public notifier {
 public:
  explicit msteamsv2_notifier(msteamsv2_settings s)
      : notifier(s.send_resolved), title_(std::move(s.title)), text_(std::move(s.text)) {
    request_ = std::move(s.http);
    request_.url = std::move(s.url);
  }

  delivery_result send(const notification& n) override {
    http_post_request request = request_;
    add_notification_id(request, n);
    request.body = render(n);
    return to_delivery_result(http_post(request));
  }

 private:
  [[nodiscard]] std::string render(const notification& n) const {
    const std::string title =
        truncate_utf8(title_ ? title_->render(n) : default_title(n), max_title_chars);
    const std::string full_text = text_ ? text_->render(n) : default_text(n);
    std::string text = full_text;
    std::string body = json_body(teams_message(title, text, n.firing()));
    // Cut the text by as many bytes as the body is over (what JSON escapes it loses only adds to
    // that) until the body fits.
    while (body.size() > max_body_bytes && !text.empty()) {
      const std::size_t over = body.size() - max_body_bytes;
      text = truncate_utf8_bytes(full_text, text.size() > over ? text.size() - over : 0);
      body = json_body(teams_message(title, text, n.firing()));
    }
    return body;
  }

  http_post_request request_;
  std::optional<notification_text> title_, text_;
};

}  // namespace

std::unique_ptr<notifier> make_msteamsv2_notifier(const config::receiver_config& receiver) {
  config::section_reader in(receiver, setting_keys);
  msteamsv2_settings s;
  s.url = value_or_file(in, "webhook_url", value_kind::url, presence::required).value_or("");
  text_reader texts(in, receiver);
  s.title = texts.read("title");
  s.text = texts.read("text");
  s.send_resolved = in.flag("send_resolved").value_or(true);
  read_http_config(in, receiver, s.http);
  in.check();
  return std::make_unique<msteamsv2_notifier>(std::move(s));
}

}  // namespace tocsin::sinks
