#include "collector/switchable_sink.hpp"

namespace tocsin::collector {

bool switchable_sink::wait_written(std::chrono::milliseconds timeout) {
  // The current sink first: if it is already the new one, the swap has stored `previous_`
  // before it, so reading `previous_` next cannot miss the sink the event may have gone to.
  event_sink* current = current_.load(std::memory_order_acquire);
  std::shared_ptr<event_sink> previous;
  {
    std::lock_guard lock(previous_mutex_);
    previous = previous_;
  }
  if (previous != nullptr && previous.get() != current && !previous->wait_written(timeout)) {
    return false;
  }
  return current->wait_written(timeout);
}

std::shared_ptr<event_sink> switchable_sink::exchange(std::shared_ptr<event_sink> next) {
  {
    std::lock_guard lock(previous_mutex_);
    previous_ = owner_;
  }
  current_.store(next.get(), std::memory_order_release);
  return std::exchange(owner_, std::move(next));
}

void switchable_sink::forget_previous() {
  std::lock_guard lock(previous_mutex_);
  previous_.reset();
}

}  // namespace tocsin::collector
