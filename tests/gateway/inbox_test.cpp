#include "gateway/inbox.h"

#include <gtest/gtest.h>

#include <atomic>
#include <poll.h>
#include <thread>
#include <vector>

namespace sipgw::gateway {
namespace {

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1;
}

TEST(Inbox, WakesOnceAndRunsEveryJobInOrder) {
  Inbox inbox;
  EXPECT_FALSE(readable(inbox.fd()));
  std::vector<int> ran;
  for (int i = 0; i < 5; ++i) inbox.post([&ran, i] { ran.push_back(i); });
  EXPECT_TRUE(readable(inbox.fd()));
  EXPECT_EQ(inbox.drain(), 5u);
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_FALSE(readable(inbox.fd()));
  EXPECT_EQ(inbox.drain(), 0u);
}

TEST(Inbox, JobsPostedWhileDrainingRunInTheSameDrain) {
  Inbox inbox;
  int count = 0;
  inbox.post([&] {
    ++count;
    inbox.post([&] { ++count; });
  });
  EXPECT_EQ(inbox.drain(), 2u);
  EXPECT_EQ(count, 2);
}

TEST(Inbox, ManyThreadsPostNothingIsLost) {
  Inbox inbox;
  std::atomic<bool> done{false};
  long total = 0;
  std::thread consumer([&] {
    while (!done.load() || readable(inbox.fd())) {
      pollfd p{inbox.fd(), POLLIN, 0};
      if (poll(&p, 1, 10) == 1) inbox.drain();
    }
  });
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) inbox.post([&total] { ++total; });  // run on the consumer only
    });
  }
  for (auto& p : producers) p.join();
  done = true;
  consumer.join();
  inbox.drain();
  EXPECT_EQ(total, 40000);
}

}  // namespace
}  // namespace sipgw::gateway
