// fd.hpp: FdBatch closes every descriptor it was given (consecutive runs with close_range,
// the others one by one), when full, on flush() and on destruction, and nothing else.
#include "fd.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <vector>

namespace nook {
namespace {

bool is_open(int fd) {
  return ::fcntl(fd, F_GETFD) >= 0;
}

Fd open_null() {
  Fd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_TRUE(fd);
  return fd;
}

TEST(FdBatch, ClosesConsecutiveAndScatteredDescriptorsOnFlush) {
  Fd keep_low = open_null();
  std::vector<int> given;
  FdBatch b;
  for (int i = 0; i < 5; i++) {  // consecutive numbers: one close_range
    Fd fd = open_null();
    given.push_back(fd.get());
    b.add(std::move(fd));
  }
  Fd keep_mid = open_null();  // between the runs: must stay open
  for (int i = 0; i < 2; i++) {
    Fd fd = open_null();
    given.push_back(fd.get());
    b.add(std::move(fd));
  }
  b.add(Fd());  // an empty Fd is ignored
  for (int fd : given) EXPECT_TRUE(is_open(fd)) << fd;
  b.flush();
  for (int fd : given) EXPECT_FALSE(is_open(fd)) << fd;
  EXPECT_TRUE(is_open(keep_low.get()));
  EXPECT_TRUE(is_open(keep_mid.get()));
  b.flush();  // empty: nothing to do, nothing else closed
  EXPECT_TRUE(is_open(keep_mid.get()));
}

TEST(FdBatch, FlushesWhenFullAndOnDestruction) {
  std::vector<int> given;
  {
    FdBatch b;
    for (int i = 0; i < FdBatch::kCap + 3; i++) {
      Fd fd = open_null();
      given.push_back(fd.get());
      b.add(std::move(fd));
    }
    // Adding the (kCap+1)th closed the first kCap: the next open got the first one's number.
    EXPECT_EQ(given[FdBatch::kCap + 1], given[0]);
    for (size_t i = given.size() - 3; i < given.size(); i++) EXPECT_TRUE(is_open(given[i]));
  }
  for (int fd : given) EXPECT_FALSE(is_open(fd)) << fd;
}

}  // namespace
}  // namespace nook
