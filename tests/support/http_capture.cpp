#include "tests/support/http_capture.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace tocsin::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct http_capture::impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::uint16_t port = 0;  // read without touching the acceptor the server thread uses
  std::thread thread;

  mutable std::mutex mutex;
  mutable std::condition_variable arrived;
  std::vector<request> requests;
  std::deque<response> script;
  response fallback;

  // Records `req` and picks its scripted response.
  response record(request req) {
    std::lock_guard lock(mutex);
    requests.push_back(std::move(req));
    arrived.notify_all();
    if (script.empty()) return fallback;
    response r = std::move(script.front());
    script.pop_front();
    return r;
  }

  void accept();
};

namespace {

// One connection: read a request, answer it, repeat while the client keeps it alive.
class session : public std::enable_shared_from_this<session> {
 public:
  using recorder = std::function<http_capture::response(http_capture::request)>;
  session(tcp::socket socket, recorder record)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), record_(std::move(record)) {}

  void read() {
    parser_.emplace();
    parser_->body_limit(64 * 1024 * 1024);
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (!ec) self->on_request();
                     });
  }

 private:
  void on_request() {
    const auto& req = parser_->get();
    http_capture::request captured;
    captured.method = std::string(req.method_string());
    captured.target = std::string(req.target());
    for (const auto& field : req) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      captured.headers[name] = std::string(field.value());
    }
    captured.body = req.body();
    captured.received = std::chrono::steady_clock::now();
    keep_alive_ = req.keep_alive();
    const http_capture::response scripted = record_(std::move(captured));

    res_ = {};
    res_.result(static_cast<unsigned>(scripted.status));
    res_.version(11);
    res_.set(http::field::server, "tocsin-test-capture");
    for (const auto& [name, value] : scripted.headers) res_.set(name, value);
    res_.body() = scripted.body;
    res_.keep_alive(keep_alive_);
    res_.prepare_payload();
    timer_.expires_after(scripted.delay);
    timer_.async_wait([self = shared_from_this()](beast::error_code) { self->write(); });
  }

  void write() {
    http::async_write(socket_, res_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        if (self->keep_alive_) {
                          self->read();
                        } else {
                          beast::error_code ignored;
                          self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
                        }
                      });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  recorder record_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  bool keep_alive_ = false;
};

}  // namespace

void http_capture::impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec) return;  // the acceptor was closed: shutting down
    std::make_shared<session>(std::move(socket), [this](request r) {
      return record(std::move(r));
    })->read();
    accept();
  });
}

http_capture::http_capture() : impl_(std::make_unique<impl>()) {
  const tcp::endpoint at(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(at.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(at);
  impl_->acceptor.listen();
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

http_capture::~http_capture() {
  impl_->io.stop();
  impl_->thread.join();
}

std::uint16_t http_capture::port() const { return impl_->port; }

std::string http_capture::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
}

void http_capture::push_response(response r) {
  std::lock_guard lock(impl_->mutex);
  impl_->script.push_back(std::move(r));
}

void http_capture::set_default_response(response r) {
  std::lock_guard lock(impl_->mutex);
  impl_->fallback = std::move(r);
}

bool http_capture::wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->arrived.wait_for(lock, timeout, [&] { return impl_->requests.size() >= n; });
}

std::vector<http_capture::request> http_capture::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

}  // namespace tocsin::test
