#pragma once
// A real cause for a failing write: RLIMIT_FSIZE. While the object lives, writes by this process
// past `bytes` into any file fail (EFBIG, or short when they straddle the limit) instead of
// raising SIGXFSZ, which is ignored meanwhile. Affects every thread of the test process.

#include <signal.h>
#include <sys/resource.h>

namespace tocsin::test {

class file_size_limit {
 public:
  explicit file_size_limit(rlim_t bytes);
  ~file_size_limit();
  file_size_limit(const file_size_limit&) = delete;
  file_size_limit& operator=(const file_size_limit&) = delete;

  // False when the limit could not be set (then nothing changed).
  [[nodiscard]] bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  struct sigaction saved_action_ {};
  bool ok_ = false;
};

}  // namespace tocsin::test
