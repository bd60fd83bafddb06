#include "config/warnings.hpp"

#include <cstdio>
#include <mutex>
#include <utility>

namespace tocsin::config {
namespace {

std::mutex handler_mutex;
warning_handler handler;  // guarded by handler_mutex; empty: stderr

}  // namespace

void warn(const std::string& message) {
  const std::string line = "warning: " + message;
  std::lock_guard lock(handler_mutex);
  if (handler) {
    handler(line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

warning_handler set_warning_handler(warning_handler next) {
  std::lock_guard lock(handler_mutex);
  return std::exchange(handler, std::move(next));
}

}  // namespace tocsin::config
