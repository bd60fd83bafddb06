#pragma once
// A RELP listener (rsyslog's reliable forwarding, `omrelp`) on Debian's librelp. librelp runs its
// own engine thread and acknowledges a message ("200 OK") as soon as the reception callback
// returns, so the callback returns only once the message is decoded, handed to the sink and
// written by every file output: what the sender saw acknowledged survives a kill -9 of tocsin,
// and what it did not see acknowledged it sends again after reconnecting.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

struct relpEngine_s;

namespace tocsin::collector {

// What a RELP server needs from its input: counters, decoding and the event sink. Called on the
// server's engine thread only, one message at a time.
class relp_input {
 public:
  virtual ~relp_input() = default;
  // False while the sink is full: the server waits before it takes the next message.
  [[nodiscard]] virtual bool accepting() const = 0;
  virtual void received(std::size_t bytes) = 0;
  // Decodes one message and hands it to the sink, or counts its rejection. True if consumed.
  virtual bool deliver(std::string_view message, std::string_view source) = 0;
  // True once every message delivered so far is written, false after `timeout`
  // (event_sink::wait_written).
  virtual bool wait_written(std::chrono::milliseconds timeout) = 0;
};

struct relp_listen_options {
  std::string name;        // the input's name, for logs
  std::string host;        // numeric address to listen on
  std::uint16_t port = 0;  // must be a real port (librelp cannot report a chosen one)
  std::size_t max_message_bytes = 65536;
};

class relp_server {
 public:
  // Creates the engine and binds the listener; throws std::runtime_error when it cannot.
  relp_server(relp_listen_options options, std::unique_ptr<relp_input> input);
  ~relp_server();
  relp_server(const relp_server&) = delete;
  relp_server& operator=(const relp_server&) = delete;

  // Starts the engine thread.
  void start();
  // Stops the engine thread (a message being delivered is finished first, then acknowledged or
  // not, depending on whether librelp still gets to send it), closes every session and the
  // listener. Idempotent.
  void stop();
  // Returns once the message being delivered at the call, if any, is finished: after a sink swap
  // the server no longer uses the old sink.
  void wait_idle();

  [[nodiscard]] const relp_listen_options& options() const { return options_; }

  // Called by librelp's reception callback on the engine thread.
  void on_message(const unsigned char* ip, const unsigned char* data, std::size_t size);

 private:
  relp_listen_options options_;
  std::unique_ptr<relp_input> input_;
  relpEngine_s* engine_ = nullptr;
  std::thread thread_;
  std::atomic<bool> exited_{false};
  std::atomic<bool> stopping_{false};
  std::mutex delivering_;  // held while a message is consumed and written
  std::string source_;     // the last sender's address, reused while it stays the same
};

}  // namespace tocsin::collector
