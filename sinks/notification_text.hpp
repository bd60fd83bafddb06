#pragma once
// The user-settable texts of a notification (a Slack title, a Telegram message, an Opsgenie
// description), and the short defaults used when none is set. Every integration renders its
// texts through here, in one of two languages:
//   - Go's text/template over Alertmanager's data model (`{{ .CommonLabels.alertname }}`,
//     `{{ template "slack.default.title" . }}`; sinks/go_template.hpp, sinks/template_data.hpp),
//     with Alertmanager's default.tmpl and the config's `templates:` files. Always for an
//     integration written in Alertmanager's syntax (`slack_configs`), and in tocsin's syntax for
//     a text that uses Go's: any action that is not a bare name.
//   - tocsin's `{{name}}` placeholders (rules::annotation_template) otherwise.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "config/section_reader.hpp"
#include "rules/template.hpp"
#include "sinks/go_template.hpp"
#include "sinks/notification.hpp"

namespace tocsin::sinks {

// Appends a value escaped for the integration's markup (HTML, Markdown …).
using text_escape = void (*)(std::string_view value, std::string& out);

class notification_text {
 public:
  // `{{name}}` placeholders. The names: `status` (firing or resolved), `count` (the firing
  // alerts while any fires, else all), then the common labels, then the common annotations; an
  // unknown name renders as nothing.
  explicit notification_text(std::string_view text);
  // Template `name` of `templates`, run with Alertmanager's data for the notification.
  notification_text(std::shared_ptr<const go_template::template_set> templates, std::string name,
                    go_template::escaping mode);

  // With `{{name}}`, values go through `escape` when given and the text's own literal pieces do
  // not, so markup written in the text (a Slack `<url|link>`, Telegram HTML) keeps working. A
  // Go template writes what it writes, as in Alertmanager. A template that fails renders its
  // error in place of the text (and logs it): a page that says why beats no page.
  [[nodiscard]] std::string render(const notification& n, text_escape escape = nullptr) const;

 private:
  rules::annotation_template placeholders_;
  std::shared_ptr<const go_template::template_set> go_;  // set: a Go template
  std::string go_name_;
  go_template::escaping go_mode_ = go_template::escaping::text;
};

// Whether `text` is written in Go's template language rather than with `{{name}}`
// placeholders: some action holds more than a name.
bool uses_go_syntax(std::string_view text);

// Reads one integration's texts, reporting a template's parse error at its key.
class text_reader {
 public:
  // Go templates see Alertmanager's default.tmpl and the config's `templates:` files; a problem
  // with those files is reported at the receiver.
  text_reader(config::section_reader& in, const config::receiver_config& receiver);

  // The text at `key`; when it is absent, `alertmanager_default` for an integration written in
  // Alertmanager's syntax (nullopt when that is "" or the syntax is tocsin's).
  std::optional<notification_text> read(std::string_view key,
                                        std::string_view alertmanager_default = {},
                                        go_template::escaping mode = go_template::escaping::text);
  // `value`, found under `key` (a map's value), in the language read() would take for it;
  // `where` it starts when that is not `key`'s value.
  std::optional<notification_text> parse(
      std::string_view key, std::string_view value,
      const std::optional<config::source_location>& where = std::nullopt);
  // `value` as a Go template; `where` is where it starts (empty for a default), for errors.
  std::optional<notification_text> go(std::string_view key, std::string_view value,
                                      const config::source_location& where,
                                      go_template::escaping mode = go_template::escaping::text);

 private:
  config::section_reader& in_;
  bool alertmanager_syntax_;
  std::shared_ptr<const go_template::template_set> templates_;  // null: they failed to load
};

// Defaults of tocsin's syntax: deliberately short. They hold no markup, so all of their text
// goes through `escape`.
// "[FIRING:2] disk_full" / "[RESOLVED] disk_full".
std::string default_title(const notification& n, text_escape escape = nullptr);
// One line per alert, firing ones first: its summary annotation, else its labels, e.g.
// "Firing:\n- disk full on web1\nResolved:\n- alertname=disk_full host=db1".
std::string default_text(const notification& n, text_escape escape = nullptr);

}  // namespace tocsin::sinks
