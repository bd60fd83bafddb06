#include "collector/ingest_server.hpp"

#include "collector/gelf.hpp"
#include "collector/gelf_chunk_assembler.hpp"
#include "collector/gelf_http_session.hpp"
#include "collector/proxy_protocol.hpp"
#include "collector/relp_server.hpp"
#include "collector/source_limiter.hpp"
#include "collector/stream_framer.hpp"
#include "collector/syslog_decoder.hpp"
#include "collector/tls_context.hpp"
#include "core/fd_budget.hpp"
#include "core/timezone.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <cerrno>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace tocsin::collector {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using steady = std::chrono::steady_clock;
using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

constexpr std::size_t initial_tcp_buffer = 16 * 1024;
constexpr std::size_t max_udp_datagram = 65536;
// Datagrams taken per recvmmsg() call, and calls per wake-up before the shard's other work gets
// a turn.
constexpr std::size_t udp_batch = 16;
constexpr int udp_batches_per_wakeup = 8;

// Asks for `wanted` bytes of receive buffer: SO_RCVBUFFORCE where tocsin may (CAP_NET_ADMIN), else
// SO_RCVBUF, which the kernel silently caps at net.core.rmem_max (208 KiB on a stock system). A
// small buffer loses datagrams in any burst, so a capped one is reported at start, with the fix.
void set_receive_buffer(const config::input_config& in, udp::socket& socket, bool report) {
  const int wanted = static_cast<int>(in.receive_buffer);
  if (::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVBUFFORCE, &wanted, sizeof wanted) !=
      0) {
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVBUF, &wanted, sizeof wanted);
  }
  int granted = 0;
  socklen_t size = sizeof granted;
  // Linux reports twice what it granted (its bookkeeping counts too).
  if (!report ||
      ::getsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVBUF, &granted, &size) != 0 ||
      granted / 2 >= wanted) {
    return;
  }
  spdlog::warn(
      "input {}: the kernel granted a UDP receive buffer of {} KiB, not {} KiB "
      "(net.core.rmem_max caps it); bursts will be dropped: sysctl -w net.core.rmem_max={}",
      in.name, granted / 2 / 1024, wanted / 1024, wanted);
}
constexpr auto backpressure_poll = std::chrono::milliseconds(10);
constexpr auto error_log_interval = std::chrono::seconds(1);
// A TLS client that has not finished its handshake by then is cut off (or at idle_timeout), and
// so is a connection on a proxy_protocol input that has not sent its whole PROXY header.
constexpr auto tls_handshake_timeout = std::chrono::seconds(10);

const char* transport_name(config::transport t) {
  switch (t) {
    case config::transport::udp:
      return "udp";
    case config::transport::tcp:
      return "tcp";
    case config::transport::tls:
      return "tls";
    case config::transport::http:
      return "http";
    case config::transport::relp:
      return "relp";
  }
  return "?";
}

std::string format_endpoint(const asio::ip::address& address, unsigned short port) {
  std::string out;
  if (address.is_v6() && !address.to_v6().is_v4_mapped()) {
    out = '[' + address.to_string() + ']';
  } else {
    out = address.is_v6() ? address.to_v6().to_v4().to_string() : address.to_string();
  }
  out += ':';
  out += std::to_string(port);
  return out;
}

constexpr const char* errors_metric = "tocsin_input_errors_total";
constexpr const char* errors_help = "Messages or connections an input rejected, by reason.";
constexpr const char* malformed_metric = "tocsin_input_malformed_total";
constexpr const char* malformed_help =
    "Malformed messages an input accepted, decoded best-effort (Event parse_error), by reason.";

// Counters, connection count and the rate-limited rejection log of one input, shared by shards.
class input_stats {
 public:
  input_stats(const config::input_config& cfg, metrics_registry& metrics)
      : messages(metrics.get_counter("tocsin_input_messages_total",
                                     "Messages accepted by an input.", {{"input", cfg.name}})),
        bytes(metrics.get_counter("tocsin_input_bytes_total", "Bytes received by an input.",
                                  {{"input", cfg.name}})),
        throttled(metrics.get_counter(
            "tocsin_input_throttled_total",
            "Times a connection stopped reading because its source was over per_source_rate.",
            {{"input", cfg.name}})),
        // librelp does not tell when sessions open and close.
        connections(cfg.transport_kind == config::transport::udp ||
                            cfg.transport_kind == config::transport::relp
                        ? nullptr
                        : &metrics.get_gauge("tocsin_input_connections",
                                             "Open connections of an input.",
                                             {{"input", cfg.name}})),
        name_(cfg.name),
        metrics_(metrics) {
    // Listed on /metrics before the first rejection, so dashboards and alerts can rely on it.
    metrics.declare(errors_metric, errors_help, metrics_registry::kind::counter);
    metrics.declare(malformed_metric, malformed_help, metrics_registry::kind::counter);
  }

  // Counts a rejected message or a refused connection, and logs at most once a second.
  void error(const char* code, const char* what, std::string_view source) {
    reason_counter(errors_, errors_metric, errors_help, code).inc();
    const auto now = steady::now().time_since_epoch().count();
    auto last = last_log_.load(std::memory_order_relaxed);
    if (now - last < std::chrono::duration_cast<steady::duration>(error_log_interval).count() ||
        !last_log_.compare_exchange_strong(last, now)) {
      suppressed_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const auto suppressed = suppressed_.exchange(0, std::memory_order_relaxed);
    spdlog::warn("input {}: rejected from {}: {} [{}]{}", name_, source, what ? what : code, code,
                 suppressed ? fmt::format(" ({} more since last report)", suppressed) : "");
  }

  // Counts a message decoded best-effort (accepted, with parse_error set).
  void malformed(std::string_view reason) {
    reason_counter(malformed_, malformed_metric, malformed_help, reason).inc();
  }

  counter& messages;
  counter& bytes;
  counter& throttled;
  gauge* const connections;  // null for UDP and RELP inputs
  std::atomic<std::size_t> open_connections{0};

 private:
  const std::string name_;
  metrics_registry& metrics_;
  std::mutex mutex_;
  // This input's series of `metric` for `reason`, looked up once.
  counter& reason_counter(std::map<std::string, counter*, std::less<>>& slots, const char* metric,
                          const char* help, std::string_view reason) {
    std::lock_guard lock(mutex_);
    auto it = slots.find(reason);
    if (it == slots.end()) {
      const std::string name(reason);
      it = slots
               .emplace(name,
                        &metrics_.get_counter(metric, help, {{"input", name_}, {"reason", name}}))
               .first;
    }
    return *it->second;
  }

  std::map<std::string, counter*, std::less<>> errors_;
  std::map<std::string, counter*, std::less<>> malformed_;
  std::atomic<steady::rep> last_log_{0};
  std::atomic<std::uint64_t> suppressed_{0};
};

// One input's decoding state on one shard: format choice, zone, decompression scratch.
class message_decoder {
 public:
  message_decoder(const config::input_config& cfg, std::size_t max_message_bytes)
      : cfg_(cfg),
        max_message_bytes_(max_message_bytes),
        timezone_(input_timezone::from_name(cfg.timezone).value_or(input_timezone::local())) {}

  // One message: a UDP datagram (GELF may be compressed) or a TCP frame.
  decode_status decode(std::string_view data, event& ev) {
    if (cfg_.type == config::input_type::gelf) {
      // Datagrams and HTTP bodies may be compressed; TCP frames are plain JSON.
      if (cfg_.transport_kind == config::transport::udp ||
          cfg_.transport_kind == config::transport::http) {
        return decode_gelf_payload(data, max_message_bytes_, scratch_, ev);
      }
      return decode_gelf_json(data, ev);
    }
    if (data.size() > max_message_bytes_) {
      return decode_status::fail("message_too_large", "message longer than max_message_bytes");
    }
    const syslog_decode_context ctx{ev.received_at, &timezone_};
    switch (cfg_.format) {
      case config::syslog_format::rfc5424:
        return decode_rfc5424(data, ev);
      case config::syslog_format::rfc3164:
        return decode_rfc3164(data, ctx, ev);
      case config::syslog_format::auto_detect:
        break;
    }
    return decode_syslog_auto(data, ctx, ev);
  }

 private:
  const config::input_config& cfg_;
  const std::size_t max_message_bytes_;
  input_timezone timezone_;
  std::string scratch_;
};

// One thread and io_context; every input has a socket or acceptor on every shard.
struct shard {
  asio::io_context io{1};
  std::thread thread;
  event ev;  // reused for every message on this shard: keeps the parse path allocation-free
};

// One GELF UDP input's chunk assembler, shared by its shards: the kernel spreads datagrams over
// shards by source address and port, and a sender may send the chunks of one message from
// different ports. (Graylog matches chunks by message id alone; tocsin by source address and id,
// so one sender cannot complete or spoil another's message.)
class shared_chunk_assembler {
 public:
  explicit shared_chunk_assembler(gelf_chunk_limits limits) : assembler_(limits) {}

  // gelf_chunk_assembler::add(), but a completed payload is copied to `out`: the assembler's own
  // view is valid only while the lock is held.
  chunk_result add(std::string_view chunk, steady::time_point now, const source_key& source,
                   std::string& out) {
    std::lock_guard lock(mutex_);
    chunk_result r = assembler_.add(chunk, now, source);
    if (r.state == chunk_result::complete) {
      out.assign(r.payload);
      r.payload = out;
    }
    return r;
  }

  std::size_t expire(steady::time_point now) {
    std::lock_guard lock(mutex_);
    return assembler_.expire(now);
  }

 private:
  std::mutex mutex_;
  gelf_chunk_assembler assembler_;
};

// What a receiver needs to deliver one message.
struct input_context {
  const config::input_config& cfg;
  const config::limits_config& limits;
  input_stats& stats;
  event_sink& sink;
  shared_chunk_assembler* chunks;  // GELF UDP only
  tls_server_context* tls;         // transport tls only
  source_limiter* limiter;         // null unless a per-source limit is set
  fd_budget* fds;                  // null: no descriptor budget
};

// How long a connection may take to say who it is (PROXY header, TLS handshake).
steady::duration handshake_limit(const config::limits_config& limits) {
  steady::duration limit = tls_handshake_timeout;
  if (limits.idle_timeout.count() > 0)
    limit = std::min(limit, steady::duration(limits.idle_timeout));
  return limit;
}

// One descriptor of the process's fd_budget, given back when the connection holding it ends.
class fd_slot {
 public:
  fd_slot() = default;  // holds nothing (no budget)
  explicit fd_slot(fd_budget* budget) : budget_(budget) {}
  fd_slot(fd_slot&& o) noexcept : budget_(std::exchange(o.budget_, nullptr)) {}
  fd_slot& operator=(fd_slot&& o) noexcept {
    if (this != &o) {
      release();
      budget_ = std::exchange(o.budget_, nullptr);
    }
    return *this;
  }
  ~fd_slot() { release(); }

 private:
  void release() {
    if (budget_ != nullptr) budget_->release();
    budget_ = nullptr;
  }
  fd_budget* budget_ = nullptr;
};

// One open connection of an input, in its count (max_connections) and gauge.
class connection_count {
 public:
  connection_count() = default;
  explicit connection_count(input_stats* stats) : stats_(stats) { stats_->connections->add(1); }
  connection_count(connection_count&& o) noexcept : stats_(std::exchange(o.stats_, nullptr)) {}
  connection_count& operator=(connection_count&& o) noexcept {
    if (this != &o) {
      release();
      stats_ = std::exchange(o.stats_, nullptr);
    }
    return *this;
  }
  ~connection_count() { release(); }

 private:
  void release() {
    if (stats_ == nullptr) return;
    stats_->open_connections.fetch_sub(1, std::memory_order_relaxed);
    stats_->connections->add(-1);
    stats_ = nullptr;
  }
  input_stats* stats_ = nullptr;
};

// Everything an admitted connection holds against the limits, given back when it ends. Its
// owner keeps it as its first member, so it is given back after the socket closed.
struct connection_tickets {
  fd_slot fd;
  connection_count count;
  source_limiter::connection_slot source;
};

// Counts the connection against its sender's max_connections_per_source; false (counted and
// logged) when the sender is at its cap.
bool take_source_slot(const input_context& in, connection_tickets& tickets,
                      const asio::ip::address& sender, const std::string& source) {
  if (in.limiter == nullptr) return true;
  auto slot = in.limiter->open_connection(sender);
  if (!slot) {
    in.stats.error("too_many_connections_from_source",
                   "connection refused: max_connections_per_source reached", source);
    return false;
  }
  tickets.source = std::move(*slot);
  return true;
}

// `received_at`: when the read that brought the message returned. Messages from one read share
// it, which spares a clock read per message.
decode_status deliver(event& ev, const input_context& in, message_decoder& decoder,
                      std::string_view data, std::string_view source,
                      std::chrono::system_clock::time_point received_at) {
  ev.clear();
  ev.received_at = received_at;
  ev.source.assign(source);
  ev.input = in.cfg.name;
  const decode_status status = decoder.decode(data, ev);
  if (!status.is_ok()) {
    in.stats.error(status.code, status.what, source);
    return status;
  }
  in.stats.messages.inc();
  if (!ev.parse_error.empty()) in.stats.malformed(ev.parse_error);
  in.sink.consume(ev);
  return status;
}

class udp_receiver : public std::enable_shared_from_this<udp_receiver> {
 public:
  udp_receiver(shard& sh, input_context in, udp::socket socket)
      : shard_(sh),
        in_(in),
        socket_(std::move(socket)),
        decoder_(in.cfg, in.limits.max_message_bytes),
        expiry_timer_(sh.io),
        retry_timer_(sh.io),
        buffer_(new char[udp_batch * max_udp_datagram]) {  // not zeroed: pages stay untouched
    for (std::size_t i = 0; i < udp_batch; ++i) {
      slots_[i] = {buffer_.get() + i * max_udp_datagram, max_udp_datagram};
      headers_[i].msg_hdr.msg_iov = &slots_[i];
      headers_[i].msg_hdr.msg_iovlen = 1;
    }
  }

  void start() {
    receive();
    if (in_.chunks) expire_chunks();
  }

 private:
  // recvmmsg() takes up to udp_batch datagrams per system call: at a few hundred thousand
  // datagrams a second, one call each is what keeps the socket buffer full.
  void receive() {
    socket_.async_wait(udp::socket::wait_read,
                       [self = shared_from_this()](boost::system::error_code ec) {
                         if (ec == asio::error::operation_aborted) return;
                         if (ec) {
                           self->receive();
                         } else {
                           self->drain();
                         }
                       });
  }

  void drain() {
    for (int round = 0; round < udp_batches_per_wakeup; ++round) {
      for (std::size_t i = 0; i < udp_batch; ++i) {
        headers_[i].msg_hdr.msg_name = senders_[i].data();
        headers_[i].msg_hdr.msg_namelen = static_cast<socklen_t>(senders_[i].capacity());
      }
      const int n =
          ::recvmmsg(socket_.native_handle(), headers_.data(), udp_batch, MSG_DONTWAIT, nullptr);
      if (n > 0) received_at_ = std::chrono::system_clock::now();
      for (int i = 0; i < n; ++i) {
        const auto k = static_cast<std::size_t>(i);
        senders_[k].resize(headers_[k].msg_hdr.msg_namelen);
        sender_ = senders_[k];
        handle(std::string_view(static_cast<const char*>(slots_[k].iov_base), headers_[k].msg_len));
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        // Datagrams may still be queued, and the reactor would not report them again until the
        // next one arrives: try again shortly.
        in_.stats.error("receive_error", std::strerror(errno), "-");
        retry_timer_.expires_after(std::chrono::milliseconds(10));
        retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
          if (ec != asio::error::operation_aborted) self->drain();
        });
        return;
      }
      if (n < static_cast<int>(udp_batch)) {  // drained
        receive();
        return;
      }
    }
    // More is waiting: let the shard's other work have a turn first. (Waiting for readiness
    // instead could miss it: the reactor reports edges, and this one has passed.)
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->drain(); });
  }

  void handle(std::string_view datagram) {
    in_.stats.bytes.inc(datagram.size());
    if (sender_ != last_sender_ || source_.empty()) {
      last_sender_ = sender_;
      source_ = format_endpoint(sender_.address(), sender_.port());
    }
    if (!in_.sink.accepting()) {  // UDP cannot push back: drop and count
      in_.stats.error("queue_full", "outputs are full, datagram dropped", source_);
      return;
    }
    if (in_.chunks && gelf_chunk_assembler::is_chunk(datagram)) {
      const auto r =
          in_.chunks->add(datagram, steady::now(), source_key_of(sender_.address()), assembled_);
      count_lost_chunked_messages(r.timed_out, r.evicted);
      if (r.state == chunk_result::rejected) {
        in_.stats.error(r.error.code, r.error.what, source_);
        return;
      }
      if (r.state == chunk_result::pending) return;
      datagram = r.payload;
    }
    if (in_.limiter != nullptr && !in_.limiter->try_take(sender_.address())) {
      in_.stats.error("rate_limited", "source over per_source_rate, datagram dropped", source_);
      return;
    }
    deliver(shard_.ev, in_, decoder_, datagram, source_, received_at_);
  }

  void expire_chunks() {
    expiry_timer_.expires_after(std::chrono::seconds(1));
    expiry_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return;
      self->count_lost_chunked_messages(self->in_.chunks->expire(steady::now()), 0);
      self->expire_chunks();
    });
  }

  void count_lost_chunked_messages(std::size_t timed_out, std::size_t evicted) {
    for (std::size_t i = 0; i < timed_out; ++i) {
      in_.stats.error("chunk_timeout", "GELF message incomplete after 5s, dropped", "-");
    }
    for (std::size_t i = 0; i < evicted; ++i) {
      in_.stats.error("chunk_evicted", "too many incomplete GELF messages, oldest dropped", "-");
    }
  }

  shard& shard_;
  input_context in_;
  udp::socket socket_;
  message_decoder decoder_;
  std::string assembled_;  // the last reassembled GELF message
  asio::steady_timer expiry_timer_;
  asio::steady_timer retry_timer_;
  std::unique_ptr<char[]> buffer_;  // udp_batch slots of max_udp_datagram bytes
  std::array<iovec, udp_batch> slots_{};
  std::array<mmsghdr, udp_batch> headers_{};
  std::array<udp::endpoint, udp_batch> senders_{};
  udp::endpoint sender_, last_sender_;
  std::chrono::system_clock::time_point received_at_;  // of the datagrams in hand
  std::string source_;
};

class tcp_session : public std::enable_shared_from_this<tcp_session> {
 public:
  // `peer` is the sender: the socket's remote end, or the one a PROXY header named.
  tcp_session(shard& sh, input_context in, tcp::socket socket, connection_tickets tickets,
              const tcp::endpoint& peer)
      : tickets_(std::move(tickets)),
        throttle_(in.limiter, peer.address()),
        shard_(sh),
        in_(in),
        socket_(std::move(socket)),
        decoder_(in.cfg, in.limits.max_message_bytes),
        framer_(in.cfg.type == config::input_type::gelf ? stream_framer::mode::nul
                                                        : stream_framer::mode::syslog,
                in.limits.max_message_bytes),
        idle_timer_(sh.io),
        pause_timer_(sh.io),
        buffer_(std::min(initial_tcp_buffer, framer_.buffer_bytes())),
        source_(format_endpoint(peer.address(), peer.port())) {
    if (in.tls != nullptr) tls_.emplace(socket_, in.tls->context());
  }

  void start() {
    boost::system::error_code ec;
    socket_.set_option(asio::socket_base::keep_alive(true), ec);
    last_activity_ = steady::now();
    if (in_.limits.idle_timeout.count() > 0) watch_idle(in_.limits.idle_timeout);  // 0: never
    if (tls_) {
      handshake();
    } else {
      read();
    }
  }

 private:
  // TLS: nothing is read as syslog before the handshake and the permitted_peers check pass.
  void handshake() {
    pause_timer_.expires_after(handshake_limit(in_.limits));  // free until reading starts
    pause_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->handshake_over_) return;
      self->in_.stats.error("tls_handshake", "TLS handshake not completed in time", self->source_);
      self->close();
    });
    tls_->async_handshake(
        asio::ssl::stream_base::server,
        [self = shared_from_this()](boost::system::error_code ec) { self->after_handshake(ec); });
  }

  void after_handshake(boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted) return;  // timed out or shutting down
    handshake_over_ = true;
    pause_timer_.cancel();
    if (ec) {
      const auto what = describe_handshake_failure(tls_->native_handle(), ec);
      in_.stats.error("tls_handshake", what.c_str(), source_);
      close();
      return;
    }
    if (const auto refused = in_.tls->refuse_peer(tls_->native_handle())) {
      in_.stats.error("peer_not_permitted", refused->c_str(), source_);
      close();
      return;
    }
    last_activity_ = steady::now();
    read();
  }

  // Reads from the TLS stream when there is one, else from the socket.
  template <class Handler>
  void async_read_some(asio::mutable_buffer space, Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(space, std::forward<Handler>(handler));
    } else {
      socket_.async_read_some(space, std::forward<Handler>(handler));
    }
  }

  void read() {
    if (!socket_.is_open()) return;
    if (!in_.sink.accepting()) {  // backpressure: leave the bytes in the kernel until there is room
      // Paused by us, not idle: the idle timeout must not close a connection with data the
      // kernel acknowledged still unread (the sender would see a reset and lose it).
      last_activity_ = steady::now();
      pause_timer_.expires_after(backpressure_poll);
      pause_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec) self->read();
      });
      return;
    }
    // Over per_source_rate: the frames just read took their tokens (into debt); pay it back by
    // not reading, so only this sender slows down and nothing is lost.
    if (const auto wait = throttle_.pause_before_read(); wait > steady::duration::zero()) {
      in_.stats.throttled.inc();
      last_activity_ = steady::now() + wait;  // paused by us, not idle
      pause_timer_.expires_after(wait);
      pause_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec) self->read();
      });
      return;
    }
    if (used_ == buffer_.size()) {
      buffer_.resize(std::min(buffer_.size() * 2, framer_.buffer_bytes()));
    }
    async_read_some(asio::buffer(buffer_.data() + used_, buffer_.size() - used_),
                    [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                      if (ec) {
                        if (ec != asio::error::operation_aborted) self->drain(true);
                        self->close();
                        return;
                      }
                      self->last_activity_ = steady::now();
                      self->in_.stats.bytes.inc(n);
                      self->used_ += n;
                      self->drain(false);
                      self->read();
                    });
  }

  // Hands every complete frame in the buffer to the decoder, then keeps the partial tail.
  void drain(bool at_end) {
    const auto received_at = std::chrono::system_clock::now();
    std::size_t start = 0;
    for (;;) {
      const std::string_view rest(buffer_.data() + start, used_ - start);
      const auto r = at_end ? framer_.finish(rest) : framer_.next(rest);
      start += r.consumed;
      if (r.what == stream_framer::result::kind::need_more) break;
      throttle_.count();
      if (r.what == stream_framer::result::kind::error) {
        in_.stats.error(r.error_code, "framing error", source_);
      } else {
        deliver(shard_.ev, in_, decoder_, r.frame, source_, received_at);
      }
    }
    if (start > 0) {
      std::memmove(buffer_.data(), buffer_.data() + start, used_ - start);
      used_ -= start;
    }
    // A large message grew the buffer; give the memory back once it is gone.
    if (used_ == 0 && buffer_.size() > initial_tcp_buffer) {
      buffer_.resize(initial_tcp_buffer);
      buffer_.shrink_to_fit();
    }
  }

  // Closes the connection when nothing arrived for idle_timeout (half-open peers included).
  void watch_idle(std::chrono::steady_clock::duration wait) {
    idle_timer_.expires_after(wait);
    idle_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return;
      const auto idle_for = steady::now() - self->last_activity_;
      const auto limit = self->in_.limits.idle_timeout;
      if (idle_for >= limit) {
        spdlog::debug("input {}: closing idle connection from {}", self->in_.cfg.name,
                      self->source_);
        self->close();
      } else {
        self->watch_idle(limit - idle_for);
      }
    });
  }

  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
    idle_timer_.cancel();
    pause_timer_.cancel();
  }

  connection_tickets tickets_;  // first member: given back after the socket closed
  stream_throttle throttle_;
  shard& shard_;
  input_context in_;
  tcp::socket socket_;
  std::optional<asio::ssl::stream<tcp::socket&>> tls_;  // over socket_, for transport tls
  bool handshake_over_ = false;  // the TLS handshake succeeded or failed (not timed out)
  message_decoder decoder_;
  stream_framer framer_;
  asio::steady_timer idle_timer_;
  asio::steady_timer pause_timer_;
  std::vector<char> buffer_;
  std::size_t used_ = 0;  // bytes [0, used_) of buffer_ are received and not yet consumed
  const std::string source_;
  steady::time_point last_activity_;
};

// A GELF HTTP connection's side of its input: decoding, counters and per-source limits (the
// HTTP itself is in gelf_http_session.cpp).
class gelf_http_link final : public gelf_http_input {
 public:
  gelf_http_link(shard& sh, input_context in, std::string source, const asio::ip::address& peer,
                 connection_tickets tickets)
      : tickets_(std::move(tickets)),
        shard_(sh),
        in_(in),
        source_(std::move(source)),
        decoder_(in.cfg, in.limits.max_message_bytes),
        throttle_(in.limiter, peer) {}
  [[nodiscard]] bool accepting() const override { return in_.sink.accepting(); }
  void received(std::size_t bytes) override { in_.stats.bytes.inc(bytes); }
  decode_status deliver(std::string_view body) override {
    throttle_.count();
    return collector::deliver(shard_.ev, in_, decoder_, body, source_,
                              std::chrono::system_clock::now());
  }
  void reject(const char* code, const char* what) override {
    throttle_.count();
    in_.stats.error(code, what, source_);
  }
  steady::duration pause_before_read() override {
    const auto wait = throttle_.pause_before_read();
    if (wait > steady::duration::zero()) in_.stats.throttled.inc();
    return wait;
  }

 private:
  connection_tickets tickets_;
  shard& shard_;
  input_context in_;
  std::string source_;
  message_decoder decoder_;
  stream_throttle throttle_;
};

// A RELP input's side of its input: decoding and counters like every syslog input (the
// protocol itself is in relp_server.cpp). Used on the RELP engine thread only.
class relp_link final : public relp_input {
 public:
  explicit relp_link(input_context in) : in_(in), decoder_(in.cfg, in.limits.max_message_bytes) {}

  [[nodiscard]] bool accepting() const override { return in_.sink.accepting(); }
  void received(std::size_t bytes) override { in_.stats.bytes.inc(bytes); }
  bool deliver(std::string_view message, std::string_view source) override {
    return collector::deliver(ev_, in_, decoder_, message, source, std::chrono::system_clock::now())
        .is_ok();
  }
  bool wait_written(std::chrono::milliseconds timeout) override {
    return in_.sink.wait_written(timeout);
  }

 private:
  input_context in_;
  message_decoder decoder_;
  event ev_;
};

// Serves an admitted connection whose sender is `peer`.
void open_session(shard& sh, const input_context& in, tcp::socket socket,
                  connection_tickets tickets, const tcp::endpoint& peer) {
  if (in.cfg.transport_kind == config::transport::http) {
    const gelf_http_options options{in.limits.max_message_bytes, in.limits.idle_timeout};
    serve_gelf_http(
        std::move(socket),
        std::make_unique<gelf_http_link>(sh, in, format_endpoint(peer.address(), peer.port()),
                                         peer.address(), std::move(tickets)),
        options);
    return;
  }
  std::make_shared<tcp_session>(sh, in, std::move(socket), std::move(tickets), peer)->start();
}

// Reads the PROXY protocol header that starts every connection of a proxy_protocol input, and
// not one byte more (what follows belongs to TLS, HTTP or the syslog framer): it peeks, and
// consumes only bytes that are certainly header. Then the connection is served as coming from
// the sender the header names (v1 UNKNOWN, v2 LOCAL: from the balancer itself).
class proxy_handshake : public std::enable_shared_from_this<proxy_handshake> {
 public:
  proxy_handshake(shard& sh, input_context in, tcp::socket socket, connection_tickets tickets,
                  const tcp::endpoint& peer)
      : tickets_(std::move(tickets)),
        shard_(sh),
        in_(in),
        socket_(std::move(socket)),
        peer_(peer),
        source_(format_endpoint(peer.address(), peer.port())),
        timer_(sh.io) {}

  void start() {
    timer_.expires_after(handshake_limit(in_.limits));
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->done_) return;
      self->in_.stats.error("handshake_timeout", "PROXY protocol header not received in time",
                            self->source_);
      self->close();
    });
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);  // the peeks and reads below must never block the shard
    wait();
  }

 private:
  void wait() {
    socket_.async_wait(
        tcp::socket::wait_read,
        [self = shared_from_this()](boost::system::error_code ec) { self->on_readable(ec); });
  }

  void on_readable(boost::system::error_code ec) {
    if (done_ || !socket_.is_open()) return;
    if (ec) return close();
    std::array<char, proxy_v2_max_bytes> bytes;
    const std::size_t n = socket_.receive(asio::buffer(bytes.data(), bytes.size() - header_.size()),
                                          tcp::socket::message_peek, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return wait();
    if (ec || n == 0) {
      // Closed before a whole header. A bare connect-and-close (a load balancer's TCP health
      // check) is not an error.
      if (!header_.empty()) {
        in_.stats.error("proxy_protocol", "connection closed inside the PROXY header", source_);
      }
      return close();
    }
    std::string candidate = header_;
    candidate.append(bytes.data(), n);
    const proxy_parse_result r = parse_proxy_header(candidate);
    if (r.state == proxy_parse_result::invalid) {
      in_.stats.error("proxy_protocol", r.error, source_);
      return close();
    }
    // need_more: every byte peeked is header, so all of it may be consumed (and the next wait
    // ends only when more arrives). complete: exactly the rest of the header.
    const std::size_t take =
        r.state == proxy_parse_result::complete ? r.header.length - header_.size() : n;
    if (!consume(take)) {
      in_.stats.error("proxy_protocol", "connection failed inside the PROXY header", source_);
      return close();
    }
    if (r.state == proxy_parse_result::need_more) {
      header_ = std::move(candidate);
      return wait();
    }
    done_ = true;
    timer_.cancel();
    socket_.non_blocking(false, ec);
    const tcp::endpoint sender = r.header.source.value_or(peer_);
    const std::string source = format_endpoint(sender.address(), sender.port());
    if (!take_source_slot(in_, tickets_, sender.address(), source)) return close();
    open_session(shard_, in_, std::move(socket_), std::move(tickets_), sender);
  }

  // Reads `n` bytes that a peek has shown are there.
  bool consume(std::size_t n) {
    std::array<char, 512> sink;
    while (n > 0) {
      boost::system::error_code ec;
      const std::size_t got =
          socket_.receive(asio::buffer(sink.data(), std::min(n, sink.size())), 0, ec);
      if (ec || got == 0) return false;
      n -= got;
    }
    return true;
  }

  void close() {
    done_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
    timer_.cancel();
  }

  connection_tickets tickets_;  // first member: given back after the socket closed
  shard& shard_;
  input_context in_;
  tcp::socket socket_;
  const tcp::endpoint peer_;
  const std::string source_;  // the balancer's address, for errors before the header is read
  asio::steady_timer timer_;
  std::string header_;  // the part of the header consumed so far
  bool done_ = false;
};

class tcp_listener : public std::enable_shared_from_this<tcp_listener> {
 public:
  tcp_listener(shard& sh, input_context in, tcp::acceptor acceptor)
      : shard_(sh), in_(in), acceptor_(std::move(acceptor)), retry_timer_(sh.io) {}

  void start() { accept(); }

 private:
  void accept() {
    acceptor_.async_accept(
        [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
          if (ec == asio::error::operation_aborted) return;
          if (ec) {
            // Out of file descriptors and the like: back off instead of spinning.
            // No peer to name: the connection is still in the backlog.
            const std::string what = "accept failed, retrying in 100 ms: " + ec.message();
            self->in_.stats.error("accept_failed", what.c_str(), "-");
            self->retry_timer_.expires_after(std::chrono::milliseconds(100));
            self->retry_timer_.async_wait([self](boost::system::error_code e) {
              if (!e) self->accept();
            });
            return;
          }
          self->admit(std::move(socket));
          self->accept();
        });
  }

  void admit(tcp::socket socket) {
    boost::system::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (ec) {  // reset before it was looked at: nothing to serve
      socket.close(ec);
      return;
    }
    const std::string source = format_endpoint(remote.address(), remote.port());
    connection_tickets tickets;
    if (in_.fds != nullptr) {
      if (!in_.fds->try_acquire()) {
        in_.stats.error("fd_budget",
                        "connection refused: descriptor budget spent (the rest is kept for the "
                        "admin API and receivers)",
                        source);
        socket.close(ec);
        return;
      }
      tickets.fd = fd_slot(in_.fds);
    }
    // Behind a load balancer the socket's address is the balancer's: the sender's own cap is
    // checked once its PROXY header has said who it is.
    if (!in_.cfg.proxy_protocol && !take_source_slot(in_, tickets, remote.address(), source)) {
      socket.close(ec);
      return;
    }
    auto& open = in_.stats.open_connections;
    if (open.fetch_add(1, std::memory_order_relaxed) >= in_.limits.max_connections) {
      open.fetch_sub(1, std::memory_order_relaxed);
      in_.stats.error("too_many_connections", "connection refused: max_connections reached",
                      source);
      socket.close(ec);
      return;
    }
    tickets.count = connection_count(&in_.stats);
    if (in_.cfg.proxy_protocol) {
      std::make_shared<proxy_handshake>(shard_, in_, std::move(socket), std::move(tickets), remote)
          ->start();
      return;
    }
    open_session(shard_, in_, std::move(socket), std::move(tickets), remote);
  }

  shard& shard_;
  input_context in_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_timer_;
};

asio::ip::address resolve_host(asio::io_context& io, const std::string& host) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) return address;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(host, "", ec);
  if (ec || results.empty()) {
    throw std::runtime_error("cannot resolve '" + host + "': " + ec.message());
  }
  return results.begin()->endpoint().address();
}

}  // namespace

struct ingest_server::impl {
  const config::config& cfg;
  event_sink& sink;
  metrics_registry& metrics;
  std::vector<std::unique_ptr<shard>> shards;
  std::vector<std::unique_ptr<input_stats>> stats;
  std::vector<std::unique_ptr<shared_chunk_assembler>> chunk_assemblers;
  std::vector<std::string> bound;
  std::vector<std::unique_ptr<tls_server_context>> tls_contexts;
  std::vector<std::unique_ptr<relp_server>> relp_servers;  // one engine thread each

  std::unique_ptr<source_limiter> limiter;  // per-source limits, shared by every input
  fd_budget* fds = nullptr;                 // descriptors connections may hold; null: no budget

  void bind_input(const config::input_config& in, input_stats& st);
  void bind_relp_input(const config::input_config& in, input_stats& st);
};

// librelp owns its listener and cannot report a port the kernel chose, so port 0 is resolved
// here first (another process could take it in between; tests and configs name real ports).
void ingest_server::impl::bind_relp_input(const config::input_config& in, input_stats& st) {
  const auto address = resolve_host(shards.front()->io, in.listen.host);
  unsigned short port = in.listen.port;
  if (port == 0) {
    try {
      tcp::acceptor probe(shards.front()->io, tcp::endpoint(address, 0));
      port = probe.local_endpoint().port();
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error("input " + in.name + ": cannot find a free port on " +
                               in.listen.host + ": " + e.code().message());
    }
  }
  relp_listen_options options;
  options.name = in.name;
  options.host = address.to_string();
  options.port = port;
  options.max_message_bytes = cfg.limits.max_message_bytes;
  const input_context ctx{in, cfg.limits, st, sink, nullptr, nullptr, nullptr};
  relp_servers.push_back(
      std::make_unique<relp_server>(std::move(options), std::make_unique<relp_link>(ctx)));
  bound.push_back(in.name + " relp " + format_endpoint(address, port));
}

void ingest_server::impl::bind_input(const config::input_config& in, input_stats& st) {
  if (in.transport_kind == config::transport::relp) {
    bind_relp_input(in, st);
    return;
  }
  const auto address = resolve_host(shards.front()->io, in.listen.host);
  unsigned short port = in.listen.port;
  shared_chunk_assembler* chunks = nullptr;
  if (in.type == config::input_type::gelf && in.transport_kind == config::transport::udp) {
    gelf_chunk_limits limits;
    limits.max_message_bytes = cfg.limits.max_message_bytes;
    limits.max_pending_bytes_per_source = cfg.limits.gelf_chunk_bytes_per_source;
    chunk_assemblers.push_back(std::make_unique<shared_chunk_assembler>(limits));
    chunks = chunk_assemblers.back().get();
  }
  // One TLS context per input, shared by its shards; bad cert/key/CA files fail start-up here.
  tls_server_context* tls = nullptr;
  if (in.transport_kind == config::transport::tls) {
    tls_contexts.push_back(std::make_unique<tls_server_context>(in));
    tls = tls_contexts.back().get();
  }
  for (auto& sh : shards) {
    const input_context ctx{in, cfg.limits, st, sink, chunks, tls, limiter.get(), fds};
    // Port 0: the first shard lets the kernel choose, the others join that port.
    try {
      if (in.transport_kind == config::transport::udp) {
        udp::socket socket(sh->io);
        const udp::endpoint ep(address, port);
        socket.open(ep.protocol());
        socket.set_option(reuse_port(true));
        set_receive_buffer(in, socket, sh == shards.front());
        socket.bind(ep);
        port = socket.local_endpoint().port();
        std::make_shared<udp_receiver>(*sh, ctx, std::move(socket))->start();
      } else {
        tcp::acceptor acceptor(sh->io);
        const tcp::endpoint ep(address, port);
        acceptor.open(ep.protocol());
        acceptor.set_option(asio::socket_base::reuse_address(true));
        acceptor.set_option(reuse_port(true));
        acceptor.bind(ep);
        acceptor.listen(asio::socket_base::max_listen_connections);
        port = acceptor.local_endpoint().port();
        std::make_shared<tcp_listener>(*sh, ctx, std::move(acceptor))->start();
      }
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error("input " + in.name + ": cannot listen on " + in.listen.host + ":" +
                               std::to_string(port) + "/" + transport_name(in.transport_kind) +
                               ": " + e.code().message());
    }
  }
  bound.push_back(in.name + " " + transport_name(in.transport_kind) + " " +
                  format_endpoint(address, port));
}

ingest_server::ingest_server(const config::config& cfg, event_sink& sink, metrics_registry& metrics,
                             std::size_t shards, fd_budget* fds)
    : impl_(std::make_unique<impl>(impl{cfg, sink, metrics, {}, {}, {}, {}, {}, {}, {}, fds})) {
  if (shards == 0) shards = std::max(1U, std::thread::hardware_concurrency());
  for (std::size_t i = 0; i < shards; ++i) impl_->shards.push_back(std::make_unique<shard>());
}

ingest_server::~ingest_server() { stop(); }

void ingest_server::start() {
  const auto& limits = impl_->cfg.limits;
  if (limits.per_source_rate > 0 || limits.max_connections_per_source > 0) {
    source_limits sl;
    sl.rate = static_cast<double>(limits.per_source_rate);
    sl.burst = static_cast<double>(limits.burst > 0 ? limits.burst : limits.per_source_rate);
    sl.max_connections = limits.max_connections_per_source;
    impl_->limiter = std::make_unique<source_limiter>(sl);
  }
  for (const auto& in : impl_->cfg.inputs) {
    impl_->stats.push_back(std::make_unique<input_stats>(in, impl_->metrics));
    impl_->bind_input(in, *impl_->stats.back());
  }
  for (auto& sh : impl_->shards) {
    sh->thread = std::thread([&io = sh->io] {
      auto guard = asio::make_work_guard(io);
      io.run();
    });
  }
  for (auto& relp : impl_->relp_servers) relp->start();
}

void ingest_server::stop() {
  if (!impl_) return;
  // A RELP message being delivered is finished (written) before its engine stops.
  for (auto& relp : impl_->relp_servers) relp->stop();
  impl_->relp_servers.clear();
  for (auto& sh : impl_->shards) sh->io.stop();
  for (auto& sh : impl_->shards) {
    if (sh->thread.joinable()) sh->thread.join();
  }
  // Destroying the io_contexts destroys the pending handlers, and with them every socket.
  impl_->shards.clear();
}

std::vector<std::string> ingest_server::describe_bound() const { return impl_->bound; }

void ingest_server::wait_for_shards() {
  // Each shard runs its handlers one at a time on one thread: once a handler posted now has
  // run, every handler that was running before it has finished.
  std::vector<std::future<void>> passed;
  for (auto& sh : impl_->shards) {
    auto done = std::make_shared<std::promise<void>>();
    passed.push_back(done->get_future());
    asio::post(sh->io, [done] { done->set_value(); });
  }
  for (auto& p : passed) p.wait();
  for (auto& relp : impl_->relp_servers) relp->wait_idle();
}

}  // namespace tocsin::collector
