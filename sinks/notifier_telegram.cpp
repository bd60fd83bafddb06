// telegram: the Bot API's sendMessage, as Alertmanager's telegram notifier calls it (through
// telebot): POST {api_url}/bot{token}/sendMessage with a JSON body. A page goes to the paged
// person's own chat (oncall.users[].telegram) instead of the configured one.

#include <charconv>
#include <cstdint>

#include "sinks/http_post.hpp"
#include "sinks/notification_text.hpp"
#include "sinks/notifier_factories.hpp"

namespace tocsin::sinks {
namespace {

// sendMessage takes 1-4096 characters of text (after entity parsing; we count the source, so a
// cut message always fits).
constexpr std::size_t max_message_chars = 4096;

constexpr std::string_view setting_keys[] = {
    "api_url",    "bot_token",         "bot_token_file", "chat_id",       "chat_id_file",
    "message",    "message_thread_id", "parse_mode",     "send_resolved", "disable_notifications",
    "http_config"};
constexpr std::string_view parse_modes[] = {"HTML", "MarkdownV2", "Markdown", ""};

// Values are escaped for the parse mode, so a label with `<` or `_` cannot break the markup.
void append_html(std::string_view s, std::string& out) {
  append_html_escaped(s, out, html_quotes::keep);
}
void append_markdown_v2(std::string_view s, std::string& out) {
  for (const char c : s) {
    if (std::string_view("_*[]()~`>#+-=|{}.!\\").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
}
void append_markdown(std::string_view s, std::string& out) {
  for (const char c : s) {
    if (std::string_view("_*`[").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
}

text_escape escape_for(std::string_view parse_mode) {
  if (parse_mode == "HTML") return append_html;
  if (parse_mode == "MarkdownV2") return append_markdown_v2;
  if (parse_mode == "Markdown") return append_markdown;
  return nullptr;
}

// `text` cut to the limit without leaving half an HTML tag or entity, or a lone Markdown
// escape, at the end (Telegram refuses those with 400). Alertmanager instead replaces an
// over-long HTML message with a fixed error text.
std::string truncate_message(const std::string& text, std::string_view parse_mode) {
  std::string cut = truncate_utf8(text, max_message_chars);
  if (cut == text) return cut;
  cut.resize(cut.size() - std::string_view("…").size());
  if (parse_mode == "HTML") {
    const std::size_t open = cut.find_last_of("<&");
    if (open != std::string::npos && cut.find_first_of(">;", open) == std::string::npos) {
      cut.resize(open);
    }
  } else if (!parse_mode.empty()) {
    std::size_t backslashes = 0;
    while (backslashes < cut.size() && cut[cut.size() - 1 - backslashes] == '\\') ++backslashes;
    if (backslashes % 2 == 1) cut.pop_back();
  }
  return cut + "…";
}

// A chat id as Telegram takes it: a number, or "@name" for a public channel.
nlohmann::ordered_json chat_id_json(const std::string& chat) {
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(chat.data(), chat.data() + chat.size(), id);
  if (ec == std::errc() && end == chat.data() + chat.size()) return id;
  return chat;
}

// The seconds a 429 answer asks to wait, 0 when it does not say.
std::int64_t flood_wait(const std::string& answer) {
  const auto json = nlohmann::json::parse(answer, nullptr, false);
  if (!json.is_object()) return 0;
  const auto parameters = json.find("parameters");
  if (parameters == json.end() || !parameters->is_object()) return 0;
  const auto wait = parameters->find("retry_after");
  return wait != parameters->end() && wait->is_number_integer() ? wait->get<std::int64_t>() : 0;
}

struct telegram_settings {
  http_post_request http;  // Alertmanager's http_config (and global.http_config)
  std::string api_url = "https://api.telegram.org";
  std::string bot_token;
  std::int64_t chat_id = 0;
  std::uint64_t message_thread_id = 0;
  std::optional<notification_text> message;  // replaces the default
  std::string parse_mode = "HTML";
  bool disable_notifications = false;
  bool send_resolved = true;
};

class telegram_notifier final : public notifier {
 public:
  explicit telegram_notifier(telegram_settings s)
      : notifier(s.send_resolved),
        chat_id_(s.chat_id),
        message_thread_id_(s.message_thread_id),
        message_(std::move(s.message)),
        parse_mode_(std::move(s.parse_mode)),
        disable_notifications_(s.disable_notifications) {
    request_ = std::move(s.http);
    std::string base = std::move(s.api_url);
    while (base.ends_with('/')) base.pop_back();
    request_.url = base + "/bot" + s.bot_token + "/sendMessage";
  }

  delivery_result send(const notification& n) override {
    http_post_request request = request_;
    add_notification_id(request, n);
    request.body = json_body(render(n));
    const http_post_response response = http_post(request);
    delivery_result result = to_delivery_result(response);
    // A flood limit answers 429 with the wait in the body: {"parameters":{"retry_after":N}}.
    if (response.status == 429 && !result.retry_after) {
      if (const auto wait = flood_wait(response.body); wait > 0) {
        result.retry_after = std::chrono::seconds(wait);
      }
    }
    return result;
  }

 private:
  [[nodiscard]] nlohmann::ordered_json render(const notification& n) const;
  [[nodiscard]] std::string page_lines(const page_info& page) const;

  http_post_request request_;  // the URL holds the token
  std::int64_t chat_id_;
  std::uint64_t message_thread_id_;
  std::optional<notification_text> message_;
  std::string parse_mode_;
  bool disable_notifications_;
};

// The lines a page starts with (DESIGN.md, "On-call"): who is paged and at which step, and the
// ack link; in the person's own chat the name is redundant but harmless, in a group it is needed.
std::string telegram_notifier::page_lines(const page_info& page) const {
  const text_escape escape = escape_for(parse_mode_);
  std::string out;
  const auto add = [&](std::string_view s) {
    if (escape != nullptr) {
      escape(s, out);
    } else {
      out += s;
    }
  };
  if (page.resolved) {
    add((page.user.empty() ? "The" : page.user + ": the") + " alerts you were paged for resolved.");
    return out + "\n";
  }
  add((page.user.empty() ? "You" : page.user + ", you") + " are paged (step " +
      std::to_string(page.step) + ").");
  if (!page.ack_url.empty()) {
    out += "\n";
    if (parse_mode_ == "HTML") {
      out += "<a href=\"" + html_escaped(page.ack_url) + "\">Acknowledge</a>";
    } else {
      add("Acknowledge: " + page.ack_url);
    }
  }
  return out + "\n";
}

nlohmann::ordered_json telegram_notifier::render(const notification& n) const {
  const text_escape escape = escape_for(parse_mode_);
  std::string text = n.page ? page_lines(*n.page) : std::string();
  text += message_ ? message_->render(n, escape)
                   : default_title(n, escape) + "\n" + default_text(n, escape);

  nlohmann::ordered_json body = {
      {"chat_id", n.page && !n.page->telegram.empty() ? chat_id_json(n.page->telegram)
                                                      : nlohmann::ordered_json(chat_id_)},
      {"text", truncate_message(text, parse_mode_)},
  };
  if (!parse_mode_.empty()) body["parse_mode"] = parse_mode_;
  // Alertmanager's options: no link previews; the others only when set, as telebot sends them.
  body["disable_web_page_preview"] = true;
  if (disable_notifications_) body["disable_notification"] = true;
  // A page in the person's own chat has no threads.
  const bool own_chat = n.page && !n.page->telegram.empty();
  if (message_thread_id_ != 0 && !own_chat) body["message_thread_id"] = message_thread_id_;
  return body;
}

std::optional<std::int64_t> parse_chat_id(const std::string& text) {
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id == 0) return std::nullopt;
  return id;
}

}  // namespace

std::unique_ptr<notifier> make_telegram_notifier(const config::receiver_config& receiver) {
  config::section_reader in(receiver, setting_keys);
  telegram_settings s;
  if (auto v = in.url("api_url")) {
    s.api_url = std::move(*v);
  } else if (!global_of(receiver).telegram_api_url.empty()) {
    s.api_url = global_of(receiver).telegram_api_url;
  }
  s.bot_token = value_or_file(in, "bot_token", value_kind::text, presence::required).value_or("");
  // chat_id: an integer, negative for groups and channels; also from a file, as Alertmanager.
  if (in.has("chat_id") && in.has("chat_id_file")) {
    in.error("chat_id_file", "give chat_id or chat_id_file, not both");
  } else if (const bool inline_id = in.has("chat_id"); inline_id || in.has("chat_id_file")) {
    const std::string key = inline_id ? "chat_id" : "chat_id_file";
    if (auto v = inline_id ? in.text(key) : in.secret_file(key)) {
      if (auto id = parse_chat_id(*v)) {
        s.chat_id = *id;
      } else {
        in.error(key, "expected a chat id (a non-zero integer), got " + config::quote(*v));
      }
    }
  } else {
    constexpr std::string_view chat_keys[] = {"chat_id", "chat_id_file"};
    in.require_one_of(chat_keys);
  }
  s.message_thread_id = in.count("message_thread_id", 0, 2'147'483'647).value_or(0);
  if (auto v = in.choice("parse_mode", parse_modes)) s.parse_mode = std::move(*v);
  // Like Alertmanager, a Go template's values are HTML-escaped when Telegram reads HTML.
  text_reader texts(in, receiver);
  s.message = texts.read(
      "message", R"({{ template "telegram.default.message" . }})",
      s.parse_mode == "HTML" ? go_template::escaping::html : go_template::escaping::text);
  s.disable_notifications = in.flag("disable_notifications").value_or(false);
  s.send_resolved = in.flag("send_resolved").value_or(true);
  read_http_config(in, receiver, s.http);
  in.check();
  return std::make_unique<telegram_notifier>(std::move(s));
}

}  // namespace tocsin::sinks
