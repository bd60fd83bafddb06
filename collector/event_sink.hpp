#pragma once
// Where decoded events go: log outputs and the rules. Called on ingest shard threads.

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
  // Returns once every event this sink consumed before the call is written (file outputs:
  // write(2) done). Inputs that acknowledge (RELP) call it before they acknowledge.
  virtual void wait_written() {}
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
  void wait_written() override {
    for (const auto& s : sinks_) s->wait_written();
  }

 private:
  std::vector<std::shared_ptr<event_sink>> sinks_;
};

}  // namespace tocsin::collector
