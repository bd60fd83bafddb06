// fd_budget: connections and archive files share one budget, files at most half of it; and
// capacity_from_rlimit() keeps a reserve of RLIMIT_NOFILE for everything else.

#include "core/fd_budget.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace tocsin {
namespace {

TEST(fd_budget, connections_take_the_whole_budget_and_give_it_back) {
  fd_budget budget(3);
  EXPECT_EQ(budget.capacity(), 3u);
  EXPECT_TRUE(budget.try_acquire());
  EXPECT_TRUE(budget.try_acquire());
  EXPECT_TRUE(budget.try_acquire());
  EXPECT_FALSE(budget.try_acquire());
  EXPECT_EQ(budget.in_use(), 3u);
  budget.release();
  EXPECT_EQ(budget.in_use(), 2u);
  EXPECT_TRUE(budget.try_acquire());
}

TEST(fd_budget, files_take_at_most_half) {
  fd_budget budget(4);
  EXPECT_TRUE(budget.try_acquire_file());
  EXPECT_TRUE(budget.try_acquire_file());
  EXPECT_FALSE(budget.try_acquire_file()) << "more than half for files";
  EXPECT_EQ(budget.in_use(), 2u);
  // The other half is still there for connections.
  EXPECT_TRUE(budget.try_acquire());
  EXPECT_TRUE(budget.try_acquire());
  EXPECT_FALSE(budget.try_acquire());
  budget.release_file();
  EXPECT_EQ(budget.in_use(), 3u);
  EXPECT_TRUE(budget.try_acquire_file());
}

TEST(fd_budget, a_file_refused_for_want_of_descriptors_takes_nothing) {
  fd_budget budget(4);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(budget.try_acquire());
  // Files are under their half, but the budget as a whole is spent.
  EXPECT_FALSE(budget.try_acquire_file());
  EXPECT_EQ(budget.in_use(), 4u);
  budget.release();
  budget.release();
  // Had the refused file kept its file slot, only one more file would fit.
  EXPECT_TRUE(budget.try_acquire_file());
  EXPECT_TRUE(budget.try_acquire_file());
  EXPECT_EQ(budget.in_use(), 4u);
}

TEST(fd_budget, capacity_from_rlimit_keeps_a_quarter_in_reserve) {
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  const auto with_soft_limit = [&](rlim_t soft) {
    rlimit limit = saved;
    limit.rlim_cur = soft;
    EXPECT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0) << soft;
    const std::size_t capacity = fd_budget::capacity_from_rlimit();
    ::setrlimit(RLIMIT_NOFILE, &saved);
    return capacity;
  };
  if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < 8192) {
    GTEST_SKIP() << "hard RLIMIT_NOFILE below 8192";
  }
  EXPECT_EQ(with_soft_limit(1024), 1024u - 256u);   // a quarter
  EXPECT_EQ(with_soft_limit(100), 100u - 32u);      // at least 32
  EXPECT_EQ(with_soft_limit(8192), 8192u - 1024u);  // at most 1024
  EXPECT_EQ(with_soft_limit(20), 0u);               // nothing left beyond the reserve
}

}  // namespace
}  // namespace tocsin
