#include "core/admin_server.hpp"

#include <spdlog/spdlog.h>
#include <sys/random.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/http_query.hpp"
#include "core/tls_server.hpp"

namespace tocsin {
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

// At most one log line a minute per kind of trouble; the rest are counted into the next line.
class log_limiter {
 public:
  // When a line may be written now: what to append to it (how many were not, since the last).
  // nullopt when not. Thread-safe.
  std::optional<std::string> allow(steady::time_point now) {
    std::lock_guard lock(mutex_);
    if (last_ != steady::time_point{} && now - last_ < std::chrono::minutes(1)) {
      ++suppressed_;
      return std::nullopt;
    }
    last_ = now;
    const std::uint64_t reported = std::exchange(suppressed_, 0);
    return reported == 0 ? std::string()
                         : " (" + std::to_string(reported) + " more in the last minute)";
  }

 private:
  std::mutex mutex_;
  steady::time_point last_{};
  std::uint64_t suppressed_ = 0;
};

// Sent with every answer: the UI runs only its own scripts and styles, is never framed, and
// leaks no URL to another site; browsers take no content type on guesswork.
constexpr std::pair<const char*, const char*> security_headers[] = {
    {"Content-Security-Policy",
     "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    // same-origin, not no-referrer: under no-referrer browsers send `Origin: null` with the
    // UI's own form and fetch POSTs, and the origin check would refuse them.
    {"Referrer-Policy", "same-origin"},
};

constexpr std::string_view session_cookie = "tocsin_session";
constexpr auto session_lifetime = std::chrono::hours(12);

// Browser sessions after a login: random ids, each good for session_lifetime. Beyond
// max_sessions the one closest to its end goes first, so a flood of logins cannot grow memory.
// Thread-safe.
class session_store {
 public:
  static constexpr std::size_t max_sessions = 1024;

  std::string create(steady::time_point now) {
    std::string id = random_id();
    std::lock_guard lock(mutex_);
    if (expiry_.size() >= max_sessions) {
      std::erase_if(expiry_, [now](const auto& entry) { return entry.second <= now; });
    }
    if (expiry_.size() >= max_sessions) {
      auto oldest = expiry_.begin();
      for (auto it = expiry_.begin(); it != expiry_.end(); ++it) {
        if (it->second < oldest->second) oldest = it;
      }
      expiry_.erase(oldest);
    }
    expiry_[id] = now + session_lifetime;
    return id;
  }

  bool valid(const std::string& id, steady::time_point now) {
    std::lock_guard lock(mutex_);
    const auto it = expiry_.find(id);
    if (it == expiry_.end()) return false;
    if (it->second > now) return true;
    expiry_.erase(it);
    return false;
  }

  void end(const std::string& id) {
    std::lock_guard lock(mutex_);
    expiry_.erase(id);
  }

 private:
  // 256 bits from the kernel's CSPRNG, as hex.
  static std::string random_id() {
    std::array<unsigned char, 32> bytes{};
    if (getrandom(bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
      throw std::runtime_error("getrandom failed: no session can be made");
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string id;
    id.reserve(bytes.size() * 2);
    for (const unsigned char b : bytes) {
      id += hex[b >> 4];
      id += hex[b & 15];
    }
    return id;
  }

  std::mutex mutex_;
  std::unordered_map<std::string, steady::time_point> expiry_;
};

}  // namespace

namespace detail {

// Everything the acceptor and the sessions share, on the server's threads.
struct admin_state {
  admin_state(metrics_registry& m, const admin_limits& l)
      : limits(l),
        connections(m.get_gauge("tocsin_admin_connections", "Open admin listener connections.")),
        refused_connections(refused(m, "max_connections")),
        refused_headers(refused(m, "header_too_large")),
        refused_bodies(refused(m, "body_too_large")),
        refused_handshakes(refused(m, "tls_handshake")),
        accept_errors(m.get_counter("tocsin_admin_accept_errors_total",
                                    "Failed accepts on the admin listener (each backs off).")),
        logins_ok(logins(m, "success")),
        logins_failed(logins(m, "failure")) {}

  static counter& refused(metrics_registry& m, const char* reason) {
    return m.get_counter("tocsin_admin_refused_total",
                         "Connections and requests the admin listener refused, by reason.",
                         {{"reason", reason}});
  }
  static counter& logins(metrics_registry& m, const char* result) {
    return m.get_counter("tocsin_admin_logins_total", "Logins to the web UI, by result.",
                         {{"result", result}});
  }

  admin_limits limits;
  std::atomic<std::size_t> open{0};
  gauge& connections;
  counter& refused_connections;
  counter& refused_headers;
  counter& refused_bodies;
  counter& refused_handshakes;
  counter& accept_errors;
  counter& logins_ok;
  counter& logins_failed;
  log_limiter connection_log, request_log, accept_log, login_log, handshake_log;
  session_store sessions;
  bool https = false;  // session cookies are then Secure
};

}  // namespace detail

namespace {

// One keep-alive connection: read a request, answer it, repeat until the peer closes or idles.
// `Stream` is a beast::tcp_stream, or an ssl_stream over one for HTTPS.
template <class Stream>
class admin_session : public std::enable_shared_from_this<admin_session<Stream>> {
 public:
  admin_session(Stream stream, const admin_routes& routes,
                std::shared_ptr<detail::admin_state> state)
      : stream_(std::move(stream)),
        sse_timer_(stream_.get_executor()),
        routes_(routes),
        state_(std::move(state)) {
    ++state_->open;
    state_->connections.add(1);
  }
  ~admin_session() {
    --state_->open;
    state_->connections.add(-1);
  }
  admin_session(const admin_session&) = delete;
  admin_session& operator=(const admin_session&) = delete;

  void start() {
    if constexpr (is_tls) {
      // A peer that connects and says nothing must not hold a connection for ever.
      lowest().expires_after(std::chrono::seconds(10));
      stream_.async_handshake(boost::asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->handshake_failed(ec);
                                self->read();
                              });
    } else {
      read();
    }
  }

 private:
  static constexpr bool is_tls = !std::is_same_v<Stream, beast::tcp_stream>;

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void handshake_failed(const beast::error_code& ec) {
    state_->refused_handshakes.inc();
    if (const auto more = state_->handshake_log.allow(steady::now())) {
      beast::error_code ignored;
      const auto peer = lowest().socket().remote_endpoint(ignored);
      spdlog::warn("admin: TLS handshake with {} failed: {}{}", peer.address().to_string(),
                   ec.message(), *more);
    }
    close();
  }

  void read() {
    // Make the request empty before reading, otherwise the operation behavior is undefined.
    request_ = {};
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(state_->limits.max_header_bytes));
    parser_->body_limit(state_->limits.max_body_bytes);
    lowest().expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
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
    if (const auto more = state_->request_log.allow(steady::now())) {
      beast::error_code ignored;
      const auto peer = lowest().socket().remote_endpoint(ignored);
      spdlog::warn("admin: refused a request from {} with {}: its {} went over {} bytes{}",
                   peer.address().to_string(), static_cast<unsigned>(status), what,
                   status == http::status::payload_too_large ? state_->limits.max_body_bytes
                                                             : state_->limits.max_header_bytes,
                   *more);
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
    lowest().expires_after(std::chrono::seconds(5));
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        self->close();
                        self->lowest().expires_after(std::chrono::seconds(2));
                        self->discard();
                      });
  }

  // Reads until the peer closes, 2 s pass or 4 MiB were dropped; then the session ends.
  void discard() {
    constexpr std::size_t max_discard = 4 * 1024 * 1024;
    if (discarded_ >= max_discard) return;
    lowest().async_read_some(boost::asio::buffer(drain_), [self = this->shared_from_this()](
                                                              beast::error_code ec, std::size_t n) {
      self->discarded_ += n;
      if (!ec) self->discard();
    });
  }

  void respond() {
    http_request_view view{std::string(request_.method_string()), std::string(request_.target()),
                           request_.body()};
    for (const auto& field : request_) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      view.headers[std::move(name)] = std::string(field.value());
    }
    const std::string path = view.target.substr(0, view.target.find('?'));
    http_reply reply;
    try {
      reply = answer(path, view);
    } catch (const std::exception& e) {
      reply = {500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what() + "\n"};
    }
    if (reply.stream) return start_event_stream(std::move(reply));
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(reply.status), request_.version());
    res->set(http::field::server, "tocsin");
    res->set(http::field::content_type, reply.content_type);
    for (const auto& [name, value] : security_headers) res->set(name, value);
    for (const auto& [name, value] : reply.headers) res->insert(name, value);
    res->keep_alive(request_.keep_alive());
    res->body() = std::move(reply.body);
    res->prepare_payload();
    // The read's deadline may have passed while a slow handler (a search) ran.
    lowest().expires_after(std::chrono::seconds(30));
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec || !res->keep_alive()) return self->close();
                        self->read();
                      });
  }

  http_reply answer(const std::string& path, http_request_view& view) {
    const bool changes = view.method != "GET" && view.method != "HEAD";
    // Logging in or out from another site's form would be a forced login or logout.
    if (path == "/login" || path == "/logout") {
      if (changes && !same_origin(view)) return forbidden_origin();
      return path == "/login" ? login(view) : logout(view);
    }
    const auth how = authorize(path, view.user);
    if (how == auth::refused) {
      http_reply reply{401, "text/plain; charset=utf-8",
                       "unauthorized: a bearer token is required\n"};
      reply.headers.emplace_back("WWW-Authenticate", "Bearer");
      return reply;
    }
    if (how == auth::cookie && changes && !same_origin(view)) return forbidden_origin();
    if (const http_handler* handler = find_handler(path)) return (*handler)(view);
    return {404, "text/plain; charset=utf-8", "not found\n"};
  }

  static http_reply forbidden_origin() {
    return {403, "text/plain; charset=utf-8", "forbidden: a request from another origin\n"};
  }

  enum class auth { open, token, cookie, refused };

  // Whether the request may reach `path`, and by what; `user` is set when a user token let it
  // in.
  auth authorize(const std::string& path, std::string& user) const {
    const std::string_view token = bearer_token();
    if (!token.empty() && routes_.user_token_paths.contains(path)) {
      // Every user token is compared, so the time taken does not tell which one was close.
      for (const auto& [secret, name] : routes_.user_tokens) {
        if (same_secret(token, secret)) user = name;
      }
      if (!user.empty()) return auth::token;
    }
    if (routes_.token.empty() || routes_.open_paths.contains(path)) return auth::open;
    for (const std::string& prefix : routes_.open_prefixes) {
      if (path.starts_with(prefix)) return auth::open;
    }
    if (!token.empty() && same_secret(token, routes_.token)) return auth::token;
    const std::string session = cookie(session_cookie);
    if (!session.empty() && state_->sessions.valid(session, steady::now())) return auth::cookie;
    return auth::refused;
  }

  // POST /login with the form field `token`: a session cookie and back to the UI. A wrong token
  // goes back to the login form, counted and logged; nothing tells how close it was.
  http_reply login(const http_request_view& req) {
    if (req.method != "POST") return redirect("/");
    if (routes_.token.empty()) return redirect("/");  // nothing to log into
    const std::string given = first_value(parse_query(req.body, /*form_body=*/true), "token");
    if (given.empty() || !same_secret(given, routes_.token)) {
      state_->logins_failed.inc();
      if (const auto more = state_->login_log.allow(steady::now())) {
        beast::error_code ignored;
        const auto peer = lowest().socket().remote_endpoint(ignored);
        spdlog::warn("admin: a login from {} with a wrong token{}", peer.address().to_string(),
                     *more);
      }
      return redirect("/?login=failed");
    }
    state_->logins_ok.inc();
    http_reply reply = redirect("/");
    reply.headers.emplace_back(
        "Set-Cookie", std::string(session_cookie) + "=" + state_->sessions.create(steady::now()) +
                          "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                          std::to_string(std::chrono::seconds(session_lifetime).count()) +
                          (state_->https ? "; Secure" : ""));
    return reply;
  }

  http_reply logout(const http_request_view& req) {
    if (req.method != "POST") return redirect("/");
    if (const std::string session = cookie(session_cookie); !session.empty()) {
      state_->sessions.end(session);
    }
    http_reply reply = redirect("/");
    reply.headers.emplace_back("Set-Cookie", std::string(session_cookie) +
                                                 "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
                                                 (state_->https ? "; Secure" : ""));
    return reply;
  }

  static http_reply redirect(const std::string& location) {
    http_reply reply{303, "text/plain; charset=utf-8", "see " + location + "\n"};
    reply.headers.emplace_back("Location", location);
    return reply;
  }

  // SameSite=Strict keeps other sites' requests from carrying the cookie; when the browser says
  // where a request comes from, that must be here too: this host as the request names it, or
  // one the server was told people reach it by (admin.external_url, behind a proxy).
  [[nodiscard]] bool same_origin(const http_request_view& req) const {
    const auto origin = req.headers.find("origin");
    if (origin == req.headers.end()) return true;
    if (routes_.trusted_origins.contains(origin->second)) return true;
    const auto host = req.headers.find("host");
    if (host == req.headers.end()) return false;
    const std::string_view o = origin->second;
    const auto scheme_end = o.find("://");
    return scheme_end != std::string_view::npos && o.substr(scheme_end + 3) == host->second;
  }

  // The value of cookie `name` in the request's Cookie header; "" without one.
  [[nodiscard]] std::string cookie(std::string_view name) const {
    const auto field = request_[http::field::cookie];
    std::string_view rest(field.data(), field.size());
    while (!rest.empty()) {
      const auto end = rest.find(';');
      std::string_view pair = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
        return std::string(pair.substr(name.size() + 1));
      }
    }
    return {};
  }

  // The token of `Authorization: Bearer <token>`; "" without one.
  [[nodiscard]] std::string_view bearer_token() const {
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
  [[nodiscard]] const http_handler* find_handler(const std::string& path) const {
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

  // Server-sent events: the headers, then whatever the stream has, until the peer goes. The
  // connection ends with the stream (Connection: close delimits the body, no chunking needed).
  // A read stays pending all along: the peer closing (a tab closed) completes it at once, and
  // that releases the stream, which unsubscribes whatever feeds it.
  void start_event_stream(http_reply reply) {
    events_ = std::move(reply.stream);
    std::string head =
        "HTTP/1.1 200 OK\r\nServer: tocsin\r\nContent-Type: text/event-stream\r\n"
        "Cache-Control: no-store\r\nConnection: close\r\n";
    for (const auto& [name, value] : security_headers) {
      head += std::string(name) + ": " + value + "\r\n";
    }
    head += "\r\n";
    lowest().expires_never();  // for the read; each write gets its own deadline
    // Through the TLS layer when there is one: it sees the client's close_notify.
    stream_.async_read_some(boost::asio::buffer(drain_),
                            [self = this->shared_from_this()](beast::error_code, std::size_t) {
                              self->end_event_stream();
                            });
    write_events(std::move(head));
  }

  void write_events(std::string text) {
    last_event_write_ = steady::now();
    // A client that stays connected but stops reading must not hold its tail for ever.
    lowest().expires_after(std::chrono::seconds(30));
    auto out = std::make_shared<std::string>(std::move(text));
    boost::asio::async_write(
        stream_, boost::asio::buffer(*out),
        [self = this->shared_from_this(), out](beast::error_code ec, std::size_t) {
          if (ec || !self->events_ || !self->events_->open()) return self->end_event_stream();
          self->write_events_later();
        });
  }

  // Takes what the stream has in 250 ms; a comment after 15 s of nothing keeps proxies from
  // timing the response out.
  void write_events_later() {
    sse_timer_.expires_after(std::chrono::milliseconds(250));
    sse_timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || !self->events_) return;
      std::string next = self->events_->take();
      if (next.empty() && !self->events_->open()) return self->end_event_stream();
      if (next.empty() && steady::now() - self->last_event_write_ > std::chrono::seconds(15)) {
        next = ": still here\n\n";
      }
      if (next.empty()) return self->write_events_later();
      self->write_events(std::move(next));
    });
  }

  void end_event_stream() {
    if (!events_) return;
    events_.reset();
    sse_timer_.cancel();
    close();
    lowest().close();
  }

  void close() {
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  Stream stream_;
  boost::asio::steady_timer sse_timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> request_;
  const admin_routes& routes_;
  std::shared_ptr<detail::admin_state> state_;
  std::array<char, 16 * 1024> drain_{};
  std::size_t discarded_ = 0;
  std::shared_ptr<event_stream> events_;  // set while serving server-sent events
  steady::time_point last_event_write_{};
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

void admin_server::use_tls(const std::string& cert, const std::string& key) {
  auto context = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  configure_server_tls(*context, cert, key);
  tls_ = std::move(context);
}

void admin_server::start(const std::string& host, unsigned short port) {
  state_ = std::make_shared<detail::admin_state>(metrics_ != nullptr ? *metrics_ : own_metrics_,
                                                 limits_);
  state_->https = tls_ != nullptr;
  const auto address = boost::asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host);
  const tcp::endpoint ep(address, port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  accept();
  // Several threads, so one slow request (a search over a big archive) holds up only itself;
  // each connection's handlers run on a strand of their own.
  threads_.reserve(limits_.threads);
  for (std::size_t i = 0; i < std::max<std::size_t>(limits_.threads, 1); ++i) {
    threads_.emplace_back([this] {
      // A handler that throws past its own catch must not take the process down.
      for (;;) {
        try {
          io_.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("admin: {}; serving on", e.what());
        }
      }
    });
  }
}

void admin_server::stop() {
  if (threads_.empty()) return;
  io_.stop();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void admin_server::accept() {
  acceptor_.async_accept(boost::asio::make_strand(io_), [this](beast::error_code ec,
                                                               tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted) return;
    detail::admin_state& state = *state_;
    if (ec) {
      // EMFILE and friends: the connection stays in the backlog and the socket stays readable,
      // so accepting again at once would spin. Wait, then try again.
      state.accept_errors.inc();
      if (const auto more = state.accept_log.allow(steady::now())) {
        spdlog::error("admin: accept failed: {}; retrying in {} ms{}", ec.message(),
                      limits_.accept_backoff.count(), *more);
      }
      backoff_.expires_after(limits_.accept_backoff);
      backoff_.async_wait([this](beast::error_code wait_ec) {
        if (wait_ec != boost::asio::error::operation_aborted) accept();
      });
      return;
    }
    if (state.open >= limits_.max_connections) {
      state.refused_connections.inc();
      if (const auto more = state.connection_log.allow(steady::now())) {
        beast::error_code ignored;
        const auto peer = socket.remote_endpoint(ignored);
        spdlog::warn("admin: closed a connection from {}: admin.max_connections ({}) are open{}",
                     peer.address().to_string(), limits_.max_connections, *more);
      }
      beast::error_code ignored;
      socket.close(ignored);
    } else if (tls_) {
      std::make_shared<admin_session<beast::ssl_stream<beast::tcp_stream>>>(
          beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *tls_),
          routes_, state_)
          ->start();
    } else {
      std::make_shared<admin_session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)),
                                                         routes_, state_)
          ->start();
    }
    accept();
  });
}

}  // namespace tocsin
