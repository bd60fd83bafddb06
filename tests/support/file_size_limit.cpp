#include "tests/support/file_size_limit.hpp"

namespace tocsin::test {

file_size_limit::file_size_limit(rlim_t bytes) {
  if (::getrlimit(RLIMIT_FSIZE, &saved_) != 0) return;
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  if (::sigaction(SIGXFSZ, &ignore, &saved_action_) != 0) return;
  const rlimit low{.rlim_cur = bytes, .rlim_max = saved_.rlim_max};
  ok_ = ::setrlimit(RLIMIT_FSIZE, &low) == 0;
  if (!ok_) ::sigaction(SIGXFSZ, &saved_action_, nullptr);
}

file_size_limit::~file_size_limit() {
  if (!ok_) return;
  ::setrlimit(RLIMIT_FSIZE, &saved_);
  ::sigaction(SIGXFSZ, &saved_action_, nullptr);
}

}  // namespace tocsin::test
