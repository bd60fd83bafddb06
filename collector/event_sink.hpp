#pragma once
// Where decoded events go (log outputs today; rules next). Called on ingest shard threads.

#include "collector/event.hpp"

#include <memory>
#include <vector>

namespace tocsin::collector {

class event_sink {
 public:
  virtual ~event_sink() = default;
  // False while the sink is full: TCP inputs stop reading until it accepts again, UDP drops.
  [[nodiscard]] virtual bool accepting() const = 0;
  // Takes what it needs from `ev` before returning (the event's views die after the call).
  virtual void consume(const event& ev) = 0;
};

// Sends every event to each of several sinks.
class fanout_sink final : public event_sink {
 public:
  explicit fanout_sink(std::vector<std::shared_ptr<event_sink>> sinks) : sinks_(std::move(sinks)) {}
  [[nodiscard]] bool accepting() const override {
    for (const auto& s : sinks_) {
      if (!s->accepting()) return false;
    }
    return true;
  }
  void consume(const event& ev) override {
    for (const auto& s : sinks_) s->consume(ev);
  }

 private:
  std::vector<std::shared_ptr<event_sink>> sinks_;
};

}  // namespace tocsin::collector
