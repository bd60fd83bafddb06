#include "core/admin_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>

namespace tocsin {
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

// One keep-alive connection: read a request, answer it, repeat until the peer closes or idles.
class admin_session : public std::enable_shared_from_this<admin_session> {
 public:
  admin_session(tcp::socket socket, const admin_routes& routes)
      : stream_(std::move(socket)), routes_(routes) {}

  void start() { read(); }

 private:
  void read() {
    // Make the request empty before reading, otherwise the operation behavior is undefined.
    request_ = {};
    parser_.emplace();
    parser_->body_limit(1024 * 1024);
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->close();
                       self->request_ = self->parser_->release();
                       self->respond();
                     });
  }

  void respond() {
    http_request_view view{std::string(request_.method_string()), std::string(request_.target()),
                           request_.body()};
    std::string path = view.target.substr(0, view.target.find('?'));
    http_reply reply;
    if (!authorized(path)) {
      reply = {401, "text/plain; charset=utf-8", "unauthorized: a bearer token is required\n"};
    } else if (const http_handler* handler = find_handler(path)) {
      try {
        reply = (*handler)(view);
      } catch (const std::exception& e) {
        reply = {500, "text/plain; charset=utf-8",
                 std::string("internal error: ") + e.what() + "\n"};
      }
    } else {
      reply = {404, "text/plain; charset=utf-8", "not found\n"};
    }
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(reply.status), request_.version());
    res->set(http::field::server, "tocsin");
    res->set(http::field::content_type, reply.content_type);
    if (reply.status == 401) res->set(http::field::www_authenticate, "Bearer");
    res->keep_alive(request_.keep_alive());
    res->body() = std::move(reply.body);
    res->prepare_payload();
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec || !res->keep_alive()) return self->close();
                        self->read();
                      });
  }

  bool authorized(const std::string& path) const {
    if (routes_.token.empty() || routes_.open_paths.contains(path)) return true;
    const auto field = request_[http::field::authorization];
    const std::string_view header(field.data(), field.size());
    constexpr std::string_view scheme = "Bearer ";
    if (header.size() <= scheme.size() ||
        !beast::iequals(beast::string_view(header.data(), scheme.size()),
                        beast::string_view(scheme.data(), scheme.size()))) {
      return false;
    }
    return same_secret(header.substr(scheme.size()), routes_.token);
  }

  // Compares in time independent of where the first difference is.
  static bool same_secret(std::string_view given, std::string_view expected) {
    unsigned char diff = given.size() == expected.size() ? 0 : 1;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      diff |= static_cast<unsigned char>(expected[i] ^ (i < given.size() ? given[i] : 0));
    }
    return diff == 0;
  }

  // The exact handler for `path`, else the one with the longest prefix of it, else nullptr.
  const http_handler* find_handler(const std::string& path) const {
    if (auto it = routes_.exact.find(path); it != routes_.exact.end()) return &it->second;
    const http_handler* best = nullptr;
    std::size_t best_length = 0;
    for (const auto& [prefix, handler] : routes_.prefix) {
      if (path.starts_with(prefix) && (best == nullptr || prefix.size() > best_length)) {
        best = &handler;
        best_length = prefix.size();
      }
    }
    return best;
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> request_;
  const admin_routes& routes_;
};

}  // namespace

admin_server::~admin_server() { stop(); }

void admin_server::handle(const std::string& path, http_handler handler) {
  routes_.exact[path] = std::move(handler);
}

void admin_server::handle_prefix(const std::string& prefix, http_handler handler) {
  routes_.prefix[prefix] = std::move(handler);
}

void admin_server::require_token(std::string token, std::set<std::string> open_paths) {
  routes_.token = std::move(token);
  routes_.open_paths = std::move(open_paths);
}

void admin_server::start(const std::string& host, unsigned short port) {
  const auto address = boost::asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host);
  const tcp::endpoint ep(address, port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  accept();
  thread_ = std::thread([this] { io_.run(); });
}

void admin_server::stop() {
  if (!thread_.joinable()) return;
  io_.stop();
  thread_.join();
}

void admin_server::accept() {
  acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (!ec) {
      std::make_shared<admin_session>(std::move(socket), routes_)->start();
    } else if (ec == boost::asio::error::operation_aborted) {
      return;
    }
    accept();
  });
}

}  // namespace tocsin
