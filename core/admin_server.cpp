#include "core/admin_server.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace tocsin {
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

// At most one log line a minute per kind of trouble; the rest are counted into the next line.
class log_limiter {
 public:
  // True when a line may be written now; suffix() then tells how many were not since the last.
  bool allow(steady::time_point now) {
    if (last_ != steady::time_point{} && now - last_ < std::chrono::minutes(1)) {
      ++suppressed_;
      return false;
    }
    last_ = now;
    reported_ = suppressed_;
    suppressed_ = 0;
    return true;
  }
  [[nodiscard]] std::string suffix() const {
    return reported_ == 0 ? std::string()
                          : " (" + std::to_string(reported_) + " more in the last minute)";
  }

 private:
  steady::time_point last_{};
  std::uint64_t suppressed_ = 0, reported_ = 0;
};

}  // namespace

namespace detail {

// Everything the acceptor and the sessions share; touched only on the server's thread, except
// the metrics.
struct admin_state {
  admin_state(metrics_registry& m, const admin_limits& l)
      : limits(l),
        connections(m.get_gauge("tocsin_admin_connections", "Open admin listener connections.")),
        refused_connections(refused(m, "max_connections")),
        refused_headers(refused(m, "header_too_large")),
        refused_bodies(refused(m, "body_too_large")),
        accept_errors(m.get_counter("tocsin_admin_accept_errors_total",
                                    "Failed accepts on the admin listener (each backs off).")) {}

  static counter& refused(metrics_registry& m, const char* reason) {
    return m.get_counter("tocsin_admin_refused_total",
                         "Connections and requests the admin listener refused, by reason.",
                         {{"reason", reason}});
  }

  admin_limits limits;
  std::size_t open = 0;
  gauge& connections;
  counter& refused_connections;
  counter& refused_headers;
  counter& refused_bodies;
  counter& accept_errors;
  log_limiter connection_log, request_log, accept_log;
};

}  // namespace detail

namespace {

// One keep-alive connection: read a request, answer it, repeat until the peer closes or idles.
class admin_session : public std::enable_shared_from_this<admin_session> {
 public:
  admin_session(tcp::socket socket, const admin_routes& routes,
                std::shared_ptr<detail::admin_state> state)
      : stream_(std::move(socket)), routes_(routes), state_(std::move(state)) {
    ++state_->open;
    state_->connections.add(1);
  }
  ~admin_session() {
    --state_->open;
    state_->connections.add(-1);
  }
  admin_session(const admin_session&) = delete;
  admin_session& operator=(const admin_session&) = delete;

  void start() { read(); }

 private:
  void read() {
    // Make the request empty before reading, otherwise the operation behavior is undefined.
    request_ = {};
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(state_->limits.max_header_bytes));
    parser_->body_limit(state_->limits.max_body_bytes);
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec == http::error::header_limit) {
                         return self->refuse(http::status::request_header_fields_too_large,
                                             self->state_->refused_headers, "headers");
                       }
                       if (ec == http::error::body_limit) {
                         return self->refuse(http::status::payload_too_large,
                                             self->state_->refused_bodies, "body");
                       }
                       if (ec) return self->close();
                       self->request_ = self->parser_->release();
                       self->respond();
                     });
  }

  // Answers an oversized request and closes the connection, reading (and dropping) what the peer
  // is still sending for a moment first: closing with unread data would reset the connection
  // and the peer might never see the answer.
  void refuse(http::status status, counter& refusals, const char* what) {
    refusals.inc();
    if (state_->request_log.allow(steady::now())) {
      beast::error_code ignored;
      const auto peer = stream_.socket().remote_endpoint(ignored);
      spdlog::warn("admin: refused a request from {} with {}: its {} went over {} bytes{}",
                   peer.address().to_string(), static_cast<unsigned>(status), what,
                   status == http::status::payload_too_large ? state_->limits.max_body_bytes
                                                             : state_->limits.max_header_bytes,
                   state_->request_log.suffix());
    }
    auto res = std::make_shared<http::response<http::string_body>>(status, 11);
    res->set(http::field::server, "tocsin");
    res->set(http::field::content_type, "text/plain; charset=utf-8");
    res->keep_alive(false);
    res->body() = status == http::status::payload_too_large
                      ? "request body larger than " +
                            std::to_string(state_->limits.max_body_bytes) + " bytes\n"
                      : "request headers larger than " +
                            std::to_string(state_->limits.max_header_bytes) + " bytes\n";
    res->prepare_payload();
    stream_.expires_after(std::chrono::seconds(5));
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        self->close();
                        self->stream_.expires_after(std::chrono::seconds(2));
                        self->discard();
                      });
  }

  // Reads until the peer closes, 2 s pass or 4 MiB were dropped; then the session ends.
  void discard() {
    constexpr std::size_t max_discard = 4 * 1024 * 1024;
    if (discarded_ >= max_discard) return;
    stream_.async_read_some(boost::asio::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->discarded_ += n;
                              if (!ec) self->discard();
                            });
  }

  void respond() {
    http_request_view view{std::string(request_.method_string()), std::string(request_.target()),
                           request_.body()};
    view.if_none_match = std::string(request_[http::field::if_none_match]);
    std::string path = view.target.substr(0, view.target.find('?'));
    http_reply reply;
    if (!authorized(path, view.user)) {
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
    for (const auto& [name, value] : reply.headers) res->set(name, value);
    res->keep_alive(request_.keep_alive());
    res->body() = std::move(reply.body);
    res->prepare_payload();
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec || !res->keep_alive()) return self->close();
                        self->read();
                      });
  }

  // Whether the request may reach `path`; `user` is set when a user token let it in.
  bool authorized(const std::string& path, std::string& user) const {
    const std::string_view token = bearer_token();
    if (!token.empty() && routes_.user_token_paths.contains(path)) {
      // Every user token is compared, so the time taken does not tell which one was close.
      for (const auto& [secret, name] : routes_.user_tokens) {
        if (same_secret(token, secret)) user = name;
      }
      if (!user.empty()) return true;
    }
    if (routes_.token.empty() || routes_.open_paths.contains(path)) return true;
    for (const std::string& prefix : routes_.open_prefixes) {
      if (path.starts_with(prefix)) return true;
    }
    return !token.empty() && same_secret(token, routes_.token);
  }

  // The token of `Authorization: Bearer <token>`; "" without one.
  std::string_view bearer_token() const {
    const auto field = request_[http::field::authorization];
    const std::string_view header(field.data(), field.size());
    constexpr std::string_view scheme = "Bearer ";
    if (header.size() <= scheme.size() ||
        !beast::iequals(beast::string_view(header.data(), scheme.size()),
                        beast::string_view(scheme.data(), scheme.size()))) {
      return {};
    }
    return header.substr(scheme.size());
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
  std::shared_ptr<detail::admin_state> state_;
  std::array<char, 16 * 1024> drain_{};
  std::size_t discarded_ = 0;
};

}  // namespace

admin_server::~admin_server() { stop(); }

void admin_server::handle(const std::string& path, http_handler handler) {
  routes_.exact[path] = std::move(handler);
}

void admin_server::handle_prefix(const std::string& prefix, http_handler handler) {
  routes_.prefix[prefix] = std::move(handler);
}

void admin_server::accept_user_tokens(std::map<std::string, std::string> token_to_user,
                                      std::set<std::string> paths) {
  routes_.user_tokens = std::move(token_to_user);
  routes_.user_token_paths = std::move(paths);
}

void admin_server::require_token(std::string token, std::set<std::string> open_paths,
                                 std::set<std::string> open_prefixes) {
  routes_.token = std::move(token);
  routes_.open_paths = std::move(open_paths);
  routes_.open_prefixes = std::move(open_prefixes);
}

void admin_server::start(const std::string& host, unsigned short port) {
  state_ = std::make_shared<detail::admin_state>(metrics_ != nullptr ? *metrics_ : own_metrics_,
                                                 limits_);
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
    if (ec == boost::asio::error::operation_aborted) return;
    detail::admin_state& state = *state_;
    if (ec) {
      // EMFILE and friends: the connection stays in the backlog and the socket stays readable,
      // so accepting again at once would spin. Wait, then try again.
      state.accept_errors.inc();
      if (state.accept_log.allow(steady::now())) {
        spdlog::error("admin: accept failed: {}; retrying in {} ms{}", ec.message(),
                      limits_.accept_backoff.count(), state.accept_log.suffix());
      }
      backoff_.expires_after(limits_.accept_backoff);
      backoff_.async_wait([this](beast::error_code wait_ec) {
        if (wait_ec != boost::asio::error::operation_aborted) accept();
      });
      return;
    }
    if (state.open >= limits_.max_connections) {
      state.refused_connections.inc();
      if (state.connection_log.allow(steady::now())) {
        beast::error_code ignored;
        const auto peer = socket.remote_endpoint(ignored);
        spdlog::warn("admin: closed a connection from {}: admin.max_connections ({}) are open{}",
                     peer.address().to_string(), limits_.max_connections,
                     state.connection_log.suffix());
      }
      beast::error_code ignored;
      socket.close(ignored);
    } else {
      std::make_shared<admin_session>(std::move(socket), routes_, state_)->start();
    }
    accept();
  });
}

}  // namespace tocsin
