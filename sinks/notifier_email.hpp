#pragma once
// The email receiver: one SMTP message per notification (multipart/alternative, a text/plain and
// a text/html part), sent through a smarthost with libcurl.
//
// Settings (the receiver's `email:` section, read and checked by make_email_notifier()):
//   smarthost      host:port; port 465 is implicit TLS (smtps), any other port speaks plain SMTP
//                  and upgrades with STARTTLS when require_tls is true
//   from, to       the sender and the recipients (`to` a list; an item may hold several,
//                  comma-separated); either form `alerts@example.com` or `Ops <alerts@example.com>`
//   require_tls    default true: STARTTLS is required, a server that does not offer it fails
//   auth: { username, password_file }   SMTP AUTH; the file is read once, at construction,
//                  relative to the config file's folder
//   tls: { ca_file }   CA bundle to verify the server with (default: the system CAs)
//   headers: { Name: value }   extra header fields; a template, and replaces From, To or Subject
//                  if so named
//   send_resolved  default false
//   subject, text, html   templates (rules/template.hpp syntax) replacing the defaults
//
// Template names, first hit wins: the common labels, the common annotations, then `status`
// (firing | resolved), `receiver`, `group_key`, `external_url`, `firing_count`,
// `resolved_count`, `alert_count`, `group_labels` ("alertname=x, host=y"), `subject` (the
// default subject) and `alerts` (the default listing of every alert: text, or HTML in `html`).
// Values are HTML-escaped in the `html` template.

#include <memory>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "sinks/notifier.hpp"

namespace tocsin::sinks {

// Throws config::config_error listing every missing or bad setting, and an unreadable
// auth.password_file, each at its key. The Date header is `time`'s now.
std::unique_ptr<notifier> make_email_notifier(const config::receiver_config& receiver,
                                              clock& time = real_clock());

}  // namespace tocsin::sinks
