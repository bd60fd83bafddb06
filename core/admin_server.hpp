#pragma once
// The admin HTTP listener (/metrics, /healthz, /readyz, /-/reload, the APIs and the web UI): a
// small Beast server on a few threads of its own, plain HTTP or HTTPS. Handlers, the token and TLS
// are set before start().
//
// Who may call it: with a token, every path but the open ones needs `Authorization: Bearer
// <token>` or the session cookie a login gives. `POST /login` (a form with `token`) checks the
// token and sets `tocsin_session` (HttpOnly, SameSite=Strict, Secure over HTTPS; 12 hours) so a
// browser never holds the token in script or URL; `POST /logout` ends the session. A request
// that comes with the cookie and changes something (not GET/HEAD) must not name another origin.
// Every answer carries a strict Content-Security-Policy and no-sniff/no-frame headers.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/metrics.hpp"

namespace tocsin {

// A response that goes on after its headers (server-sent events): the session takes what is
// ready every 250 ms and writes it, sends a comment line when it has been quiet for 15 s, and
// releases the stream when the peer goes or open() turns false. Called by one serving thread at a
// time.
class event_stream {
 public:
  virtual ~event_stream() = default;
  // What is ready to send now, "" for nothing yet.
  virtual std::string take() = 0;
  // False once nothing more will come: the response ends after what take() gave.
  [[nodiscard]] virtual bool open() const { return true; }
};

struct http_reply {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // more response headers
  // Set: a `text/event-stream` response fed by this stream (status, body ignored).
  std::shared_ptr<event_stream> stream;
};

struct http_request_view {
  std::string method;
  std::string target;  // path and query as sent
  std::string body;
  std::string user;  // whose user token authorized the request (accept_user_tokens); "" else
  std::map<std::string, std::string> headers;  // names lower-cased (If-None-Match, Accept ...)
};

// Handlers run on any of the serving threads, several at once: they must be thread-safe.
using http_handler = std::function<http_reply(const http_request_view&)>;

// What the admin server serves: handlers by path, and the token that guards them.
struct admin_routes {
  std::map<std::string, http_handler> exact, prefix;
  std::string token;  // "" = no authentication
  std::set<std::string> open_paths, open_prefixes;
  std::map<std::string, std::string> user_tokens;  // token → user name
  std::set<std::string> user_token_paths;          // where a user token is accepted
  std::set<std::string> trusted_origins;           // more origins a cookie's change may come from
};

namespace detail {
struct admin_state;
}

// What one peer may cost the admin listener. Beyond a limit the peer gets an answer (431, 413)
// or a closed connection, never the server's attention.
struct admin_limits {
  std::size_t max_connections = 64;          // more are closed at once (admin.max_connections)
  std::size_t max_header_bytes = 16 * 1024;  // request line and headers; more → 431
  std::size_t max_body_bytes = 1024 * 1024;  // more → 413
  // After a failed accept (EMFILE, ENFILE, ENOBUFS…) the listener waits this long before
  // accepting again: the pending connection keeps the socket readable, so retrying at once spins.
  std::chrono::milliseconds accept_backoff{100};
  std::size_t threads = 4;  // serving threads: a slow request holds up only one
};

// Metrics: tocsin_admin_connections (gauge), tocsin_admin_refused_total{reason=max_connections|
// header_too_large|body_too_large|tls_handshake}, tocsin_admin_accept_errors_total,
// tocsin_admin_logins_total{result=success|failure}. Every refusal, accept error and failed login
// is also logged, at most once a minute per kind.
class admin_server {
 public:
  admin_server() = default;
  ~admin_server();
  admin_server(const admin_server&) = delete;
  admin_server& operator=(const admin_server&) = delete;

  // Exact-path handler; the query string is not part of the match.
  void handle(const std::string& path, http_handler handler);
  // Handler for every path starting with `prefix` (e.g. "/api/v2/silence/"). Exact handlers win;
  // among prefixes the longest wins.
  void handle_prefix(const std::string& prefix, http_handler handler);

  // Every path but `open_paths` and those under `open_prefixes` then needs
  // `Authorization: Bearer <token>` or a login's session cookie (401 otherwise).
  void require_token(std::string token, std::set<std::string> open_paths,
                     std::set<std::string> open_prefixes = {});
  // On `paths`, a bearer token of `token_to_user` is accepted too, and names the request's user.
  void accept_user_tokens(std::map<std::string, std::string> token_to_user,
                          std::set<std::string> paths);

  // Origins (`https://tocsin.example.com`) besides the request's own Host that a browser's
  // change may come from: where a proxy rewrites Host, the address people use (external_url).
  void trust_origins(std::set<std::string> origins) {
    routes_.trusted_origins = std::move(origins);
  }

  // Before start(). Without set_metrics() the counts go to a registry of the server's own;
  // `metrics` must outlive the server.
  void set_limits(const admin_limits& limits) { limits_ = limits; }
  void set_metrics(metrics_registry& metrics) { metrics_ = &metrics; }

  // Serves HTTPS only, with `cert` (PEM chain) and its `key`. Throws tls_setting_error naming
  // the file that is unreadable or wrong.
  void use_tls(const std::string& cert, const std::string& key);

  // Binds and starts serving on limits.threads threads of its own. Throws on bind failure.
  void start(const std::string& host, unsigned short port);
  void stop();
  [[nodiscard]] unsigned short port() const { return port_; }

 private:
  void accept();

  admin_limits limits_;
  metrics_registry own_metrics_;
  metrics_registry* metrics_ = nullptr;
  // Shared with the sessions, which io_'s destructor may destroy after the other members.
  std::shared_ptr<detail::admin_state> state_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  boost::asio::steady_timer backoff_{io_};
  admin_routes routes_;  // read by the serving threads; set before start()
  std::unique_ptr<boost::asio::ssl::context> tls_;  // null: plain HTTP
  std::vector<std::thread> threads_;
  unsigned short port_ = 0;
};

}  // namespace tocsin
