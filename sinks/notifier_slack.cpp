// slack: one incoming-webhook message with one attachment per notification, coloured by severity.

#include <optional>
#include <set>

#include "sinks/http_post.hpp"
#include "sinks/notification_text.hpp"
#include "sinks/notifier_factories.hpp"

namespace tocsin::sinks {
namespace {

// Slack's limits: it cuts an attachment title around 1024 characters (Alertmanager truncates
// there too) and attachment text around 8000; a message's text beyond 40 000 is truncated.
constexpr std::size_t max_title_chars = 1024;
constexpr std::size_t max_text_chars = 8000;
constexpr std::size_t max_listed_hosts = 10;

// Slack's mrkdwn treats &, < and > as control characters; values are escaped, literal template
// text is not (so `<https://x|link>` written in a template still works).
void append_escaped(std::string_view s, std::string& out) {
  append_html_escaped(s, out, html_quotes::keep);
}

std::string escaped(std::string_view s) { return html_escaped(s, html_quotes::keep); }

// Higher is worse; unknown severities rank lowest.
int severity_rank(std::string_view s) {
  if (s == "critical") return 3;
  if (s == "error") return 2;
  if (s == "warning") return 1;
  return 0;
}

// The common severity label, else the worst among the firing alerts.
std::string notification_severity(const notification& n, const rules::label_set& common) {
  if (const auto it = common.find("severity"); it != common.end()) return it->second;
  std::string worst;
  for (const rules::alert& a : n.alerts) {
    const auto it = a.labels.find("severity");
    if (!a.firing || it == a.labels.end()) continue;
    if (worst.empty() || severity_rank(it->second) > severity_rank(worst)) worst = it->second;
  }
  return worst;
}

constexpr std::string_view setting_keys[] = {
    "webhook_url", "webhook_url_file", "channel", "username", "icon_emoji",
    "icon_url",    "send_resolved",    "title",   "text"};

struct slack_settings {
  std::string url;
  http_post_request http;  // authentication, TLS and proxy settings (Alertmanager's http_config)
  std::string channel, username, icon_emoji, icon_url;
  std::optional<notification_text> title, text;  // replace the default title and text
  bool send_resolved = false;
};

class slack_notifier final : public notifier {
 public:
  explicit slack_notifier(slack_settings s)
      : notifier(s.send_resolved),
        channel_(std::move(s.channel)),
        username_(std::move(s.username)),
        icon_emoji_(std::move(s.icon_emoji)),
        icon_url_(std::move(s.icon_url)),
        title_(std::move(s.title)),
        text_(std::move(s.text)) {
    request_ = std::move(s.http);
    request_.url = std::move(s.url);
  }

  delivery_result send(const notification& n) override {
    http_post_request request = request_;
    add_notification_id(request, n);  // not shown; for a proxy or a log in between
    request.body = render(n).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return to_delivery_result(http_post(request));
  }

 private:
  [[nodiscard]] nlohmann::ordered_json render(const notification& n) const;

  http_post_request request_;
  std::string channel_, username_, icon_emoji_, icon_url_;
  std::optional<notification_text> title_, text_;
};

// A page's message text (DESIGN.md, "On-call"): a mention, so Slack notifies the person, and
// the ack link. `title` is already escaped.
std::string page_text(const page_info& page, const std::string& title) {
  std::string who = page.slack.empty() ? escaped(page.user) : "<@" + page.slack + ">";
  if (page.resolved) return who + " resolved: " + title;
  std::string text = who + " you are paged (step " + std::to_string(page.step) + "): " + title;
  if (!page.ack_url.empty()) text += " <" + page.ack_url + "|Acknowledge>";
  return text;
}

nlohmann::ordered_json slack_notifier::render(const notification& n) const {
  const bool firing = n.firing();
  const rules::label_set labels = n.common_labels();
  const auto annotations = n.common_annotations();
  const std::string count = std::to_string(firing ? n.firing_count() : n.alerts.size());
  const std::string severity = notification_severity(n, labels);

  const std::string title =
      truncate_utf8(title_ ? title_->render(n, append_escaped) : default_title(n, append_escaped),
                    max_title_chars);

  std::string text;
  if (text_) {
    text = text_->render(n, append_escaped);
  } else {
    // Summary: the common one, else the first alert's of the state the message reports.
    std::string summary;
    if (const auto it = annotations.find("summary"); it != annotations.end()) {
      summary = it->second;
    } else {
      for (const rules::alert& a : n.alerts) {
        const auto s = a.annotations.find("summary");
        if (a.firing == firing && s != a.annotations.end()) {
          summary = s->second;
          break;
        }
      }
    }
    std::set<std::string> hosts;
    for (const rules::alert& a : n.alerts) {
      if (const auto h = a.labels.find("host"); h != a.labels.end()) hosts.insert(h->second);
    }
    std::string host_list;
    std::size_t listed = 0;
    for (const std::string& h : hosts) {
      if (listed == max_listed_hosts) {
        host_list += " and " + std::to_string(hosts.size() - listed) + " more";
        break;
      }
      host_list += (listed++ == 0 ? "" : ", ") + h;
    }
    const auto line = [&](const char* label, const std::string& value) {
      if (value.empty()) return;
      text += text.empty() ? "" : "\n";
      text += std::string("*") + label + ":* " + escaped(value);
    };
    line("Severity", severity);
    line("Summary", summary);
    line("Hosts", host_list);
    line("Count", count);
  }

  // Slack's colours: "danger" red, "warning" yellow, "good" green; grey for the rest.
  std::string color = "good";
  if (firing) {
    const int rank = severity_rank(severity);
    color = rank >= 2 ? "danger" : rank == 1 ? "warning" : "#808080";
  }

  nlohmann::ordered_json attachment = {
      {"color", color},
      {"title", title},
  };
  if (!n.external_url.empty()) attachment["title_link"] = n.external_url;
  attachment["fallback"] = title;
  attachment["text"] = truncate_utf8(text, max_text_chars);
  attachment["mrkdwn_in"] = nlohmann::ordered_json::array({"text"});

  nlohmann::ordered_json body = nlohmann::ordered_json::object();
  if (n.page) body["text"] = page_text(*n.page, title);
  if (!channel_.empty()) body["channel"] = channel_;
  if (!username_.empty()) body["username"] = username_;
  if (!icon_emoji_.empty()) body["icon_emoji"] = icon_emoji_;
  if (!icon_url_.empty()) body["icon_url"] = icon_url_;
  body["attachments"] = nlohmann::ordered_json::array({std::move(attachment)});
  return body;
}

}  // namespace

std::unique_ptr<notifier> make_slack_notifier(const config::receiver_config& receiver) {
  if (receiver.syntax == config::receiver_syntax::alertmanager) {
    return make_alertmanager_slack_notifier(receiver);
  }
  config::section_reader in(receiver, setting_keys);
  slack_settings s;
  if (in.has("webhook_url") && in.has("webhook_url_file")) {
    in.error("webhook_url_file", "give webhook_url or webhook_url_file, not both");
  } else if (in.has("webhook_url")) {
    s.url = in.url("webhook_url").value_or("");
  } else if (in.has("webhook_url_file")) {
    s.url = in.secret_file("webhook_url_file").value_or("");
  }
  constexpr std::string_view url_keys[] = {"webhook_url", "webhook_url_file"};
  in.require_one_of(url_keys);
  s.channel = in.text("channel").value_or("");
  s.username = in.text("username").value_or("");
  s.icon_emoji = in.text("icon_emoji").value_or("");
  s.icon_url = in.url("icon_url").value_or("");
  text_reader texts(in, receiver);
  s.title = texts.read("title");
  s.text = texts.read("text");
  s.send_resolved = in.flag("send_resolved").value_or(false);
  in.check();
  return std::make_unique<slack_notifier>(std::move(s));
}

}  // namespace tocsin::sinks
