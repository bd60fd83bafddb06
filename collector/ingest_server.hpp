#pragma once
// The ingest side of tocsin: N shards, each a thread with its own io_context, every input bound
// on every shard with SO_REUSEPORT. Datagrams and TCP frames are decoded inline on the shard and
// handed to the event sink; a connection stays on one shard for its whole life.

#include "collector/event_sink.hpp"
#include "config/config.hpp"
#include "core/metrics.hpp"

#include <memory>
#include <string>
#include <vector>

namespace tocsin {
class fd_budget;
}

namespace tocsin::collector {

class ingest_server {
 public:
  // `shards` = 0 means one per core. Each accepted connection holds one unit of `fds` until it
  // ends (null: no budget); when it is spent, new connections are refused and counted
  // (reason fd_budget). `fds` must outlive the server.
  ingest_server(const config::config& cfg, event_sink& sink, metrics_registry& metrics,
                std::size_t shards = 0, fd_budget* fds = nullptr);
  ~ingest_server();
  ingest_server(const ingest_server&) = delete;
  ingest_server& operator=(const ingest_server&) = delete;

  // Binds every input on every shard (throws std::runtime_error naming the input on failure),
  // then starts the shard threads.
  void start();
  // Stops accepting and reading, closes every socket, joins the shards.
  void stop();

  // Returns once every shard has finished what it was doing at the call: after a sink swap, no
  // shard still uses the old sink. Only while started.
  void wait_for_shards();

  // "name transport host:port" of every bound input (ports resolved when configured as 0).
  [[nodiscard]] std::vector<std::string> describe_bound() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tocsin::collector
