// What the integrations written in Alertmanager's syntax share: its `http_config`
// (prometheus/common's HTTPClientConfig), `global:` defaults, secrets given inline or as files.

#include <algorithm>
#include <cctype>

#include "sinks/notifier_factories.hpp"

namespace tocsin::sinks {
namespace {

constexpr std::string_view http_config_keys[] = {"authorization",
                                                 "basic_auth",
                                                 "bearer_token",
                                                 "bearer_token_file",
                                                 "oauth2",
                                                 "proxy_url",
                                                 "no_proxy",
                                                 "proxy_from_environment",
                                                 "proxy_connect_header",
                                                 "tls_config",
                                                 "follow_redirects",
                                                 "enable_http2"};
constexpr std::string_view ignored_http_keys[] = {"no_proxy", "proxy_from_environment",
                                                  "proxy_connect_header", "follow_redirects",
                                                  "enable_http2"};
constexpr std::string_view authorization_keys[] = {"type", "credentials", "credentials_file"};
constexpr std::string_view basic_auth_keys[] = {"username", "username_file", "password",
                                                "password_file"};
constexpr std::string_view tls_keys[] = {
    "ca",          "ca_file",    "cert",        "cert_file",
    "key",         "key_file",   "server_name", "insecure_skip_verify",
    "min_version", "max_version"};
constexpr std::string_view ignored_tls_keys[] = {"server_name", "min_version", "max_version"};

constexpr std::string_view unsupported_integrations[] = {"pushover", "victorops", "wechat",
                                                         "sns",      "webex",     "msteams"};

void read_http_section(config::section_reader& http, http_post_request& request) {
  http.ignore(ignored_http_keys, "tocsin does not implement this http_config setting");
  if (http.has("oauth2")) http.error("oauth2", "tocsin does not support OAuth 2.0 here");
  const int schemes = static_cast<int>(http.has("authorization")) +
                      static_cast<int>(http.has("basic_auth")) +
                      static_cast<int>(http.has("bearer_token") || http.has("bearer_token_file"));
  if (schemes > 1) {
    http.error("authorization", "give at most one of authorization, basic_auth and bearer_token");
  }
  if (auto token = value_or_file(http, "bearer_token")) request.bearer_token = std::move(*token);
  if (http.has("authorization")) {
    config::section_reader auth = http.section("authorization", authorization_keys);
    if (auto type = auth.text("type")) {
      // prometheus/common: a single token; Basic has its own section.
      const bool token = std::all_of(type->begin(), type->end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
      });
      if (!token) {
        auth.error("type", "must be one word, such as Bearer");
      } else if (type->size() == 5 &&
                 std::equal(type->begin(), type->end(), "basic", [](char a, char b) {
                   return std::tolower(static_cast<unsigned char>(a)) == b;
                 })) {
        auth.error("type", "use basic_auth for Basic authentication");
      } else {
        request.authorization_type = std::move(*type);
      }
    }
    if (auto credentials = value_or_file(auth, "credentials")) {
      request.bearer_token = std::move(*credentials);
    }
  }
  if (http.has("basic_auth")) {
    config::section_reader auth = http.section("basic_auth", basic_auth_keys);
    request.basic_username = value_or_file(auth, "username").value_or("");
    request.basic_password = value_or_file(auth, "password").value_or("");
    if (request.basic_username.empty()) {
      constexpr std::string_view names[] = {"username", "username_file"};
      auth.require_one_of(names);
    }
  }
  if (auto proxy = http.url("proxy_url")) request.proxy_url = std::move(*proxy);
  if (http.has("tls_config")) {
    config::section_reader tls = http.section("tls_config", tls_keys);
    tls.ignore(ignored_tls_keys, "tocsin does not implement this tls_config setting");
    constexpr std::string_view inline_pem[] = {"ca", "cert", "key"};
    for (std::string_view key : inline_pem) {
      if (tls.has(key)) tls.error(key, "give the PEM as a file (" + std::string(key) + "_file)");
    }
    if (auto f = tls.path("ca_file")) request.ca_file = f->string();
    if (auto f = tls.path("cert_file")) request.cert_file = f->string();
    if (auto f = tls.path("key_file")) request.key_file = f->string();
    if (request.cert_file.empty() != request.key_file.empty()) {
      tls.error(request.cert_file.empty() ? "key_file" : "cert_file",
                "give cert_file and key_file together");
    }
    request.insecure_skip_verify = tls.flag("insecure_skip_verify").value_or(false);
  }
}

}  // namespace

std::optional<std::string> value_or_file(config::section_reader& in, std::string_view key,
                                         value_kind kind, presence need) {
  const std::string file_key = std::string(key) + "_file";
  if (in.has(key) && in.has(file_key)) {
    in.error(file_key, "give " + std::string(key) + " or " + file_key + ", not both");
    return std::nullopt;
  }
  if (in.has(key)) {
    auto value = kind == value_kind::url ? in.url(key) : in.text(key);
    // It goes into a header or a URL: a line break would start another header.
    if (value && value->find_first_of("\r\n") != std::string::npos) {
      in.error(key, "must be one line");
      return std::nullopt;
    }
    return value;
  }
  if (in.has(file_key)) return in.secret_file(file_key);
  if (need == presence::required) {
    const std::string_view either[] = {key, file_key};
    in.require_one_of(either);
  }
  return std::nullopt;
}

void read_http_config(config::section_reader& in, const config::receiver_config& receiver,
                      http_post_request& request) {
  if (in.has("http_config")) {
    config::section_reader http = in.section("http_config", http_config_keys);
    read_http_section(http, request);
    return;
  }
  // Like Alertmanager, an integration's own http_config replaces the global one as a whole.
  if (const auto& global = global_of(receiver).http_config) {
    config::section_reader http(*global, http_config_keys);
    read_http_section(http, request);
    http.check();
  }
}

const config::global_config& global_of(const config::receiver_config& receiver) {
  static const config::global_config defaults;
  return receiver.global ? *receiver.global : defaults;
}

bool is_unsupported_alertmanager_integration(std::string_view integration) {
  return std::find(std::begin(unsupported_integrations), std::end(unsupported_integrations),
                   integration) != std::end(unsupported_integrations);
}

}  // namespace tocsin::sinks
