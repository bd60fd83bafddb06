#pragma once
// The admin HTTP listener (/metrics, /healthz, later /readyz, /-/reload, /api/v2/*): a small
// Beast server on its own thread. Handlers are registered by path before start().

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <map>
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

  // Binds and starts serving on a thread of its own. Throws on bind failure.
  void start(const std::string& host, unsigned short port);
  void stop();
  [[nodiscard]] unsigned short port() const { return port_; }

 private:
  void accept();

  boost::asio::io_context io_{1};
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  // Read by the serving thread; registration happens before start().
  std::map<std::string, http_handler> handlers_;
  std::map<std::string, http_handler> prefix_handlers_;
  std::thread thread_;
  unsigned short port_ = 0;
};

}  // namespace tocsin
