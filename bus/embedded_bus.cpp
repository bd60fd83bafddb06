#include "bus/embedded_bus.hpp"

namespace tocsin::bus {

embedded_bus::embedded_bus(consumer c, metrics_registry& metrics, std::size_t capacity)
    : consumer_(std::move(c)),
      capacity_(capacity),
      published_(metrics.get_counter("tocsin_bus_published_total", "Alerts put on the bus.")),
      dropped_(metrics.get_counter("tocsin_bus_errors_total", "Alerts the bus failed to carry.",
                                   {{"reason", "queue_full"}})),
      depth_(metrics.get_gauge("tocsin_queue_depth", "Items waiting in a queue.",
                               {{"queue", "bus"}})) {
  thread_ = std::thread([this] { run(); });
}

embedded_bus::~embedded_bus() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void embedded_bus::publish(std::vector<rules::alert> alerts) {
  if (alerts.empty()) return;
  std::size_t dropped = 0;
  {
    std::lock_guard lock(mutex_);
    for (auto& a : alerts) {
      if (queue_.size() >= capacity_) {
        ++dropped;
        continue;
      }
      queue_.push_back(std::move(a));
      published_.inc();
    }
    depth_.set(static_cast<std::int64_t>(queue_.size()));
  }
  if (dropped > 0) dropped_.inc(dropped);
  wake_.notify_one();
}

void embedded_bus::drain() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

void embedded_bus::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything consumed
    rules::alert a = std::move(queue_.front());
    queue_.pop_front();
    depth_.set(static_cast<std::int64_t>(queue_.size()));
    busy_ = true;
    lock.unlock();
    consumer_(a);
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
}

}  // namespace tocsin::bus
