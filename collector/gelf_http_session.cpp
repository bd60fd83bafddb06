#include "collector/gelf_http_session.hpp"

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <optional>
#include <string>

namespace tocsin::collector {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

constexpr auto backpressure_poll = std::chrono::milliseconds(10);
// After a response that ends the connection, what the peer still sends is read and discarded
// for a while, so closing with unread data does not reset the connection before the peer has
// read the response (nginx's lingering close).
constexpr auto linger_timeout = std::chrono::seconds(2);
constexpr std::size_t linger_max_bytes = 1 << 20;

// Beast 1.74's string_view is Boost's, which does not convert to std::string_view by itself.
std::string_view view(beast::string_view s) { return {s.data(), s.size()}; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// True when every coding in a Content-Encoding header is one the GELF decoder reads. The body's
// leading bytes decide how it is decoded, not the header: graypy announces "gzip,deflate" on a
// zlib body, and Graylog detects gzip and zlib by their magic bytes too.
bool readable_encoding(std::string_view header) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view token = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
      token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    const std::string coding = lower(token);
    if (!coding.empty() && coding != "identity" && coding != "gzip" && coding != "x-gzip" &&
        coding != "deflate") {
      return false;
    }
  }
  return true;
}

bool is_http_error(const beast::error_code& ec) {
  return ec.category() == make_error_code(http::error::end_of_stream).category();
}

struct refusal {
  http::status status;
  const char* code;  // tocsin_input_errors_total reason
  const char* text;  // response body
};

// Whether a request (seen by its header) is one this input takes, before its body is read.
std::optional<refusal> check(const http::request<http::string_body>& req) {
  const std::string_view target = view(req.target());
  if (target.substr(0, target.find('?')) != "/gelf") {
    return refusal{http::status::not_found, "not_found", "not found: GELF is posted to /gelf\n"};
  }
  if (req.method() != http::verb::post) {
    return refusal{http::status::method_not_allowed, "method_not_allowed",
                   "method not allowed: use POST\n"};
  }
  if (!readable_encoding(view(req[http::field::content_encoding]))) {
    return refusal{http::status::unsupported_media_type, "unsupported_encoding",
                   "unsupported Content-Encoding: use gzip, deflate or none\n"};
  }
  return std::nullopt;
}

class gelf_http_session : public std::enable_shared_from_this<gelf_http_session> {
 public:
  gelf_http_session(tcp::socket socket, std::unique_ptr<gelf_http_input> input,
                    const gelf_http_options& options)
      : stream_(std::move(socket)),
        input_(std::move(input)),
        options_(options),
        pause_timer_(stream_.get_executor()) {}

  void start() { next_request(); }

 private:
  // Reads the next request unless the outputs are full or the sender is over its rate: then
  // the request stays in the kernel (and the sender's buffers) until it is time.
  void next_request() {
    if (!stream_.socket().is_open()) return;
    if (!input_->accepting()) return pause(backpressure_poll);
    if (const auto wait = input_->pause_before_read(); wait > steady::duration::zero()) {
      return pause(wait);
    }
    // A fresh parser per request: a parser cannot be reused once it has read a message.
    parser_.emplace();
    parser_->body_limit(options_.max_body_bytes);
    arm_timeout();
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->on_header(ec, n);
                            });
  }

  // While paused no operation is pending on the stream, so its timeout cannot close the
  // connection (a paused connection is not idle, DESIGN.md); every operation re-arms it first.
  void pause(steady::duration wait) {
    pause_timer_.expires_after(wait);
    pause_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->next_request();
    });
  }

  void on_header(beast::error_code ec, std::size_t n) {
    input_->received(n);
    if (ec) return on_read_error(ec);
    const auto& req = parser_->get();
    // Refuse before reading the body: a wrong request is answered without taking it in. The
    // connection survives only when there is no body left unread.
    if (const auto r = check(req)) {
      input_->reject(r->code, r->text);
      return respond(r->status, r->text, req.keep_alive() && parser_->is_done());
    }
    if (parser_->is_done()) return handle();  // no body: decoding says what is missing
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      // curl waits a second for this before it sends a large body.
      continue_ = std::make_unique<http::response<http::empty_body>>(http::status::continue_,
                                                                     req.version());
      arm_timeout();
      return http::async_write(stream_, *continue_,
                               [self = shared_from_this()](beast::error_code e, std::size_t) {
                                 if (e) return self->close();
                                 self->read_body();
                               });
    }
    read_body();
  }

  void read_body() {
    arm_timeout();
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                       self->input_->received(n);
                       if (ec) return self->on_read_error(ec);
                       self->handle();
                     });
  }

  void handle() {
    // The outputs filled up while this request was read: hold it until they accept again (the
    // sender waits for its answer) rather than deliver into a full queue.
    if (!input_->accepting()) {
      pause_timer_.expires_after(backpressure_poll);
      pause_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec) self->handle();
      });
      return;
    }
    const auto& req = parser_->get();
    const decode_status status = input_->deliver(req.body());
    if (status.is_ok()) return respond(http::status::accepted, "", req.keep_alive());
    std::string reason = status.code;
    if (status.what != nullptr) reason.append(": ").append(status.what);
    reason += '\n';
    respond(http::status::bad_request, std::move(reason), req.keep_alive());
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      input_->reject("message_too_large", "request body larger than max_message_bytes");
      return respond(http::status::payload_too_large,
                     "payload too large: the limit is max_message_bytes\n", false);
    }
    if (ec == http::error::partial_message) {
      input_->reject("truncated_request", "connection closed in the middle of a request");
      return close();
    }
    if (is_http_error(ec) && ec != http::error::end_of_stream) {
      input_->reject("bad_request", "malformed HTTP request");
      return respond(http::status::bad_request, "bad request: " + ec.message() + "\n", false);
    }
    // The peer closed between requests, went idle, or the socket failed: nothing to answer.
    close();
  }

  void respond(http::status status, std::string text, bool keep_alive) {
    response_ = {};
    response_.result(status);
    response_.version(parser_ && parser_->get().version() == 10 ? 10 : 11);
    response_.set(http::field::server, "tocsin");
    if (!text.empty()) response_.set(http::field::content_type, "text/plain; charset=utf-8");
    if (status == http::status::method_not_allowed) response_.set(http::field::allow, "POST");
    response_.keep_alive(keep_alive);
    response_.body() = std::move(text);
    response_.prepare_payload();
    arm_timeout();
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->close();
                        if (!self->response_.keep_alive()) return self->linger();
                        self->next_request();
                      });
  }

  void arm_timeout() {
    if (options_.idle_timeout > steady::duration::zero()) {
      stream_.expires_after(options_.idle_timeout);
    } else {
      stream_.expires_never();
    }
  }

  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(linger_timeout);
    discard();
  }

  void discard() {
    stream_.async_read_some(asio::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->lingered_ += n;
                              if (ec || self->lingered_ > linger_max_bytes) return self->close();
                              self->discard();
                            });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    pause_timer_.cancel();
  }

  beast::tcp_stream stream_;
  std::unique_ptr<gelf_http_input> input_;
  const gelf_http_options options_;
  asio::steady_timer pause_timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::unique_ptr<http::response<http::empty_body>> continue_;
  http::response<http::string_body> response_;
  std::array<char, 4096> discard_{};
  std::size_t lingered_ = 0;
};

}  // namespace

void serve_gelf_http(tcp::socket socket, std::unique_ptr<gelf_http_input> input,
                     const gelf_http_options& options) {
  std::make_shared<gelf_http_session>(std::move(socket), std::move(input), options)->start();
}

}  // namespace tocsin::collector
