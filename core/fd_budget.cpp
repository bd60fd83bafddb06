#include "core/fd_budget.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace tocsin {

std::size_t fd_budget::capacity_from_rlimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return std::size_t{1} << 20;
  }
  const auto soft = static_cast<std::size_t>(limit.rlim_cur);
  const std::size_t reserve = std::clamp<std::size_t>(soft / 4, 32, 1024);
  return soft > reserve ? soft - reserve : 0;
}

}  // namespace tocsin
