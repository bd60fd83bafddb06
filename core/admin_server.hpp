#pragma once
// The admin HTTP listener (/metrics, /healthz, /readyz, /-/reload, /api/v2/*): a small Beast
// server on its own thread. Handlers and the token are set before start().

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>

namespace tocsin {

struct http_reply {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct http_request_view {
  std::string method;
  std::string target;  // path and query as sent
  std::string body;
};

using http_handler = std::function<http_reply(const http_request_view&)>;

// What the admin server serves: handlers by path, and the token that guards them.
struct admin_routes {
  std::map<std::string, http_handler> exact, prefix;
  std::string token;  // "" = no authentication
  std::set<std::string> open_paths;
};

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

  // Every path but `open_paths` then needs `Authorization: Bearer <token>` (401 otherwise).
  void require_token(std::string token, std::set<std::string> open_paths);

  // Binds and starts serving on a thread of its own. Throws on bind failure.
  void start(const std::string& host, unsigned short port);
  void stop();
  [[nodiscard]] unsigned short port() const { return port_; }

 private:
  void accept();

  boost::asio::io_context io_{1};
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  admin_routes routes_;  // read by the serving thread; set before start()
  std::thread thread_;
  unsigned short port_ = 0;
};

}  // namespace tocsin
