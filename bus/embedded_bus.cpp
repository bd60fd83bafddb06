#include "bus/embedded_bus.hpp"

namespace tocsin::bus {

embedded_bus::embedded_bus(consumer c, metrics_registry& metrics, std::size_t capacity)
    : consumer_(std::move(c)),
      published_(metrics.get_counter("tocsin_bus_published_total", "Alerts put on the bus.")),
      worker_(capacity,
              {.depth = metrics.get_gauge("tocsin_queue_depth", "Items waiting in a queue.",
                                          {{"queue", "bus"}}),
               .dropped =
                   metrics.get_counter("tocsin_bus_errors_total", "Alerts the bus failed to carry.",
                                       {{"reason", "queue_full"}})},
              [this](const rules::alert& a) { consumer_(a); }) {}

embedded_bus::~embedded_bus() { drain(); }

void embedded_bus::publish(std::vector<rules::alert> alerts) {
  for (auto& a : alerts) {
    if (worker_.try_push(std::move(a))) published_.inc();
  }
}

bool embedded_bus::drain(std::chrono::steady_clock::time_point deadline) {
  return worker_.drain(deadline);
}

}  // namespace tocsin::bus
