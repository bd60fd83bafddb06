#include "config/global_config.hpp"

#include <string>
#include <string_view>

#include "config/section_reader.hpp"

namespace tocsin::config {
namespace {

using entry = yaml_entry;

// Alertmanager 0.25's GlobalConfig, plus the `*_file` variants of later versions.
constexpr std::string_view global_keys[] = {
    "resolve_timeout",       "http_config",        "smtp_from",          "smtp_hello",
    "smtp_smarthost",        "smtp_auth_username", "smtp_auth_password", "smtp_auth_password_file",
    "smtp_auth_identity",    "smtp_auth_secret",   "smtp_require_tls",   "slack_api_url",
    "slack_api_url_file",    "pagerduty_url",      "opsgenie_api_url",   "opsgenie_api_key",
    "opsgenie_api_key_file", "telegram_api_url",   "wechat_api_url",     "wechat_api_secret",
    "wechat_api_corp_id",    "victorops_api_url",  "victorops_api_key",  "victorops_api_key_file",
    "webex_api_url",         "pushover_api_url"};

}  // namespace

void load_global(yaml_reader& reader, const yaml_entry& at, const std::filesystem::path& base_dir,
                 global_config& out) {
  const auto entries = reader.mapping(at, global_keys);
  if (!entries) return;
  const auto secret = [&](const entry& e, std::string& value) {
    auto file = reader.text(e);
    if (!file) return;
    std::filesystem::path path(*file);
    if (path.is_relative()) path = base_dir / path;
    std::string problem;
    if (auto v = read_secret_file(path, problem)) {
      value = std::move(*v);
    } else {
      reader.error(e.mark(), e.path, "cannot read " + quote(path.string()) + ": " + problem);
    }
  };
  // A value and its `_file` twin are one setting: giving both is a mistake, not a precedence.
  const auto both = [&](std::string_view key) {
    const std::string file_key = std::string(key) + "_file";
    const entry* value = find(*entries, key);
    const entry* file = find(*entries, file_key);
    if (value != nullptr && file != nullptr) {
      reader.error(file->key_mark, file->path,
                   "give " + std::string(key) + " or " + file_key + ", not both");
    }
  };
  both("smtp_auth_password");
  both("slack_api_url");
  both("opsgenie_api_key");
  for (const entry& e : *entries) {
    const std::string& k = e.name;
    // Alertmanager reads '' as "not set": files in the wild carry `smtp_auth_username: ''`.
    if (e.value.IsNull() || (e.value.IsScalar() && e.value.Scalar().empty())) continue;
    if (k == "resolve_timeout") {
      if (auto v = reader.span(e)) out.resolve_timeout = *v;
    } else if (k == "http_config") {
      out.http_config =
          std::make_shared<const receiver_section>(receiver_section{reader.file(), e});
    } else if (k == "smtp_from") {
      if (auto v = reader.text(e)) out.smtp_from = *v;
    } else if (k == "smtp_hello") {
      if (auto v = reader.text(e)) out.smtp_hello = *v;
    } else if (k == "smtp_smarthost") {
      // host:port, checked here so a bad one is reported at its own line.
      if (auto v = reader.address(e)) {
        if (v->port == 0) {
          reader.error(e.mark(), e.path, "must be host:port with a port");
        } else {
          out.smtp_smarthost = e.value.Scalar();
        }
      }
    } else if (k == "smtp_auth_username") {
      if (auto v = reader.text(e)) out.smtp_auth_username = *v;
    } else if (k == "smtp_auth_password") {
      if (auto v = reader.text(e)) out.smtp_auth_password = *v;
    } else if (k == "smtp_auth_password_file") {
      secret(e, out.smtp_auth_password);
    } else if (k == "smtp_auth_identity") {
      if (auto v = reader.text(e)) out.smtp_auth_identity = *v;
    } else if (k == "smtp_auth_secret") {
      if (auto v = reader.text(e)) out.smtp_auth_secret = *v;
    } else if (k == "smtp_require_tls") {
      if (auto v = reader.flag(e)) out.smtp_require_tls = *v;
    } else if (k == "slack_api_url") {
      if (auto v = reader.url(e)) out.slack_api_url = *v;
    } else if (k == "slack_api_url_file") {
      secret(e, out.slack_api_url);
    } else if (k == "pagerduty_url") {
      if (auto v = reader.url(e)) out.pagerduty_url = *v;
    } else if (k == "opsgenie_api_url") {
      if (auto v = reader.url(e)) out.opsgenie_api_url = *v;
    } else if (k == "opsgenie_api_key") {
      if (auto v = reader.text(e)) out.opsgenie_api_key = *v;
    } else if (k == "opsgenie_api_key_file") {
      secret(e, out.opsgenie_api_key);
    } else if (k == "telegram_api_url") {
      if (auto v = reader.url(e)) out.telegram_api_url = *v;
    }
  }
}

}  // namespace tocsin::config
