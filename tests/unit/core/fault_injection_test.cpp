// The fault-injection seam itself: disarmed it never fires; armed, exactly the n-th call among
// the sites under the prefix fails, once, with the errno asked for.

#include "core/fault_injection.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace tocsin {
namespace {

TEST(fault_injection, disarmed_nothing_fails) {
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(fault_injection::fail("spool.write", EIO));
  EXPECT_FALSE(fault_injection::fired());
}

TEST(fault_injection, the_nth_call_under_the_prefix_fails_once) {
  const fault_injection::scoped_fault fault("spool.", 2);
  EXPECT_FALSE(fault_injection::fail("spool.create", ENOSPC));  // call 0
  EXPECT_FALSE(fault_injection::fail("archive.write", EIO));    // not under the prefix
  EXPECT_FALSE(fault_injection::fail("spool.write", EIO));      // call 1
  errno = 0;
  EXPECT_TRUE(fault_injection::fail("spool.fdatasync", EIO));  // call 2
  EXPECT_EQ(errno, EIO);
  EXPECT_FALSE(fault_injection::fail("spool.write", EIO));  // once only
  EXPECT_EQ(fault_injection::fired_at(), "spool.fdatasync");
}

TEST(fault_injection, error_zero_leaves_errno_alone_and_disarm_stops_it) {
  {
    const fault_injection::scoped_fault fault("kafka.", 0);
    errno = EAGAIN;
    EXPECT_TRUE(fault_injection::fail("kafka.consumer.seek", 0));
    EXPECT_EQ(errno, EAGAIN);
  }
  const fault_injection::scoped_fault fault("kafka.", 1);
  fault_injection::disarm();
  EXPECT_FALSE(fault_injection::fail("kafka.consumer.seek", 0));
  EXPECT_FALSE(fault_injection::fail("kafka.consumer.seek", 0));
  EXPECT_FALSE(fault_injection::fired());
}

}  // namespace
}  // namespace tocsin
