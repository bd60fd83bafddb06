#include "core/clock.hpp"

namespace tocsin {
namespace {

class system_clock_source final : public clock {
 public:
  [[nodiscard]] std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
  [[nodiscard]] std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::now();
  }
};

}  // namespace

clock& real_clock() {
  static system_clock_source instance;
  return instance;
}

}  // namespace tocsin
