#include "sinks/http_post.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <memory>
#include <mutex>
#include <string_view>

namespace tocsin::sinks {
namespace {

constexpr std::size_t max_response_body = 64 * 1024;
constexpr std::size_t max_detail = 4096;

// curl_global_init is not thread-safe and must run before any other libcurl call.
void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct curl_deleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct slist_deleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto& body = *static_cast<std::string*>(user);
  const std::size_t n = size * count;
  body.append(data, std::min(n, max_response_body - std::min(max_response_body, body.size())));
  return n;  // keep reading (and discarding) past the cap, so the status stays meaningful
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Retry-After is delay-seconds or an HTTP-date (RFC 9110 10.2.3).
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  long long seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc() && end == value.data() + value.size()) {
    return std::chrono::seconds(std::max(0LL, seconds));
  }
  const std::string text(value);
  const std::time_t when = curl_getdate(text.c_str(), nullptr);
  if (when < 0) return std::nullopt;
  return std::chrono::seconds(std::max<long long>(0, when - std::time(nullptr)));
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto& retry_after = *static_cast<std::optional<std::chrono::seconds>*>(user);
  const std::size_t n = size * count;
  const std::string_view line(data, n);
  constexpr std::string_view name = "retry-after:";
  if (line.size() > name.size()) {
    bool match = true;
    for (std::size_t i = 0; i < name.size() && match; ++i) {
      match = std::tolower(static_cast<unsigned char>(line[i])) == name[i];
    }
    if (match) retry_after = parse_retry_after(line.substr(name.size()));
  }
  return n;
}

std::string truncated(std::string_view s) {
  if (s.size() <= max_detail) return std::string(s);
  return std::string(s.substr(0, max_detail)) + "…";
}

}  // namespace

http_post_response http_post(const http_post_request& request) {
  init_curl_once();
  http_post_response response;
  std::unique_ptr<CURL, curl_deleter> curl(curl_easy_init());
  if (!curl) {
    response.error = "curl_easy_init failed";
    return response;
  }
  curl_slist* raw_headers = nullptr;
  const auto add_header = [&](const std::string& line) {
    if (curl_slist* l = curl_slist_append(raw_headers, line.c_str())) raw_headers = l;
  };
  add_header("Content-Type: " + request.content_type);
  add_header("Expect:");  // no 100-continue round trip for bodies over 1 KiB
  // An integration's own Authorization header (Opsgenie's GenieKey) wins, as in Go's client.
  const bool has_authorization =
      std::any_of(request.headers.begin(), request.headers.end(), [](const std::string& h) {
        constexpr std::string_view name = "authorization:";
        return h.size() >= name.size() &&
               std::equal(name.begin(), name.end(), h.begin(), [](char a, char b) {
                 return a == std::tolower(static_cast<unsigned char>(b));
               });
      });
  if (request.basic_username.empty() && !request.bearer_token.empty() && !has_authorization) {
    add_header("Authorization: " + request.authorization_type + " " + request.bearer_token);
  }
  for (const std::string& h : request.headers) add_header(h);
  std::unique_ptr<curl_slist, slist_deleter> headers(raw_headers);

  CURL* c = curl.get();
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  if (!request.pinned_cert_file.empty()) {
    // curl takes a non-CA certificate as a trust anchor (partial chains are on since 7.68).
    curl_easy_setopt(c, CURLOPT_CAINFO, request.pinned_cert_file.c_str());
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!request.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, request.ca_file.c_str());
  if (!request.cert_file.empty()) curl_easy_setopt(c, CURLOPT_SSLCERT, request.cert_file.c_str());
  if (!request.key_file.empty()) curl_easy_setopt(c, CURLOPT_SSLKEY, request.key_file.c_str());
  if (request.insecure_skip_verify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!request.proxy_url.empty()) curl_easy_setopt(c, CURLOPT_PROXY, request.proxy_url.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  if (request.method != "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_USERAGENT, "tocsin");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: we are multithreaded
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.retry_after);
  if (!request.basic_username.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(c, CURLOPT_USERNAME, request.basic_username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, request.basic_password.c_str());
  }

  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    response.error = error[0] != '\0' ? error : curl_easy_strerror(rc);
    response.status = 0;
    return response;
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

delivery_result to_delivery_result(const http_post_response& response) {
  delivery_result r;
  r.status = response.status;
  if (response.status == 0) {
    r.result = delivery_result::outcome::retry;
    r.detail = truncated(response.error);
    return r;
  }
  if (response.status >= 200 && response.status < 300) return delivery_result::delivered(r.status);
  r.detail = truncated(response.body);
  if (response.status >= 500 || response.status == 429) {
    r.result = delivery_result::outcome::retry;
    r.retry_after = response.retry_after;
  } else {
    r.result = delivery_result::outcome::permanent;
  }
  return r;
}

void add_notification_id(http_post_request& request, const notification& n) {
  if (!n.id.empty()) request.headers.push_back(std::string(notification_id_header) + ": " + n.id);
}

}  // namespace tocsin::sinks
