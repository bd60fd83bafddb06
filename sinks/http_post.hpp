#pragma once
// One blocking HTTP POST (or PUT) with libcurl, for the notifiers. Never throws.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "sinks/notification.hpp"

namespace tocsin::sinks {

struct http_post_request {
  std::string method = "POST";  // or "PUT" (Opsgenie's alert updates), with the same body
  std::string url;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::string> headers;  // extra "Name: value" lines
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  // At most one of these: basic auth when `basic_username` is set, else a bearer token when set.
  std::string basic_username, basic_password;
  std::string bearer_token;
  std::string authorization_type = "Bearer";  // the scheme bearer_token is sent with
  // Alertmanager's http_config: tls_config's files (PEM) and checks, and a proxy.
  std::string ca_file, cert_file, key_file;
  bool insecure_skip_verify = false;
  std::string proxy_url;  // "" = libcurl's default (the *_proxy environment variables)
  // Trust exactly this PEM certificate instead of the system's CAs, whatever name it carries
  // (tocsin's own admin.tls cert, reached by address); "" = the system's CAs and name checks.
  std::string pinned_cert_file;
};

struct http_post_response {
  int status = 0;                                   // 0 when no HTTP response arrived
  std::string body;                                 // the first 64 KiB of the response body
  std::string error;                                // curl's error text when status is 0
  std::optional<std::chrono::seconds> retry_after;  // Retry-After: seconds or HTTP-date
};

http_post_response http_post(const http_post_request& request);

// No response, 5xx and 429 → retry (with the peer's Retry-After); other 4xx (and 1xx/3xx, which
// a POST cannot recover from by repeating it) → permanent; 2xx → delivered. `detail` is the
// error or the (truncated) response body.
delivery_result to_delivery_result(const http_post_response& response);

// The header that carries notification::id, so a receiver can drop a repeated notification.
inline constexpr const char* notification_id_header = "X-Tocsin-Notification-Id";

// Adds `X-Tocsin-Notification-Id: <n.id>` to `request` when the notification has an id.
void add_notification_id(http_post_request& request, const notification& n);

}  // namespace tocsin::sinks
