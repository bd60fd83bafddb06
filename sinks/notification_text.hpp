#pragma once
// The user-settable texts of a notification (a Slack title, a Telegram message, an Opsgenie
// description), and the short defaults used when none is set. Every integration renders its
// texts through here, so the template language is swapped in one place.

#include <string>
#include <string_view>

#include "rules/template.hpp"
#include "sinks/notification.hpp"

namespace tocsin::sinks {

// Appends a value escaped for the integration's markup (HTML, Markdown …).
using text_escape = void (*)(std::string_view value, std::string& out);

// One text with `{{name}}` placeholders (rules::annotation_template). The names: `status`
// (firing or resolved), `count` (the firing alerts while any fires, else all), then the common
// labels, then the common annotations; an unknown name renders as nothing.
class notification_text {
 public:
  explicit notification_text(std::string_view text);

  // Values go through `escape` when given; the text's own literal pieces do not, so markup
  // written in the text (a Slack `<url|link>`, Telegram HTML) keeps working.
  [[nodiscard]] std::string render(const notification& n, text_escape escape = nullptr) const;

 private:
  rules::annotation_template template_;
};

// Defaults, until Go templates bring Alertmanager's default.tmpl: deliberately short. They hold
// no markup, so all of their text goes through `escape`.
// "[FIRING:2] disk_full" / "[RESOLVED] disk_full".
std::string default_title(const notification& n, text_escape escape = nullptr);
// One line per alert, firing ones first: its summary annotation, else its labels, e.g.
// "Firing:\n- disk full on web1\nResolved:\n- alertname=disk_full host=db1".
std::string default_text(const notification& n, text_escape escape = nullptr);

}  // namespace tocsin::sinks
