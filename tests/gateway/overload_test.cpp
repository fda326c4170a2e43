#include "gateway/overload.h"
#include "gateway/receive_queue.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

namespace sipgw::gateway {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(OverloadGuardTest, RefusesOnlyOnceTheThreadStaysBehindForHalfTheLimit) {
  OverloadGuard guard(milliseconds(100));
  EXPECT_TRUE(guard.admit_new_call(microseconds(0), 1000));
  EXPECT_TRUE(guard.admit_new_call(microseconds(100000), 1001)) << "at the limit is not behind";
  // Behind from 1002 on: the first 50 ms (half the limit) still admit: a
  // queue that drains in that time is no overload.
  EXPECT_TRUE(guard.admit_new_call(microseconds(150000), 1002));
  guard.heartbeat(microseconds(500), microseconds(140000), 1030);
  EXPECT_TRUE(guard.admit_new_call(microseconds(130000), 1051));
  EXPECT_EQ(guard.state(), LoadState::normal);
  EXPECT_FALSE(guard.admit_new_call(microseconds(120000), 1052));
  EXPECT_EQ(guard.state(), LoadState::shedding);
  EXPECT_EQ(guard.refused(), 1u);
  // The queue is short again: admitted at once; still "shedding" by name
  // until a second without a refusal.
  EXPECT_TRUE(guard.admit_new_call(microseconds(20000), 1060));
  EXPECT_EQ(guard.state(), LoadState::shedding);
  // Behind again: another 50 ms of grace, counted afresh.
  EXPECT_TRUE(guard.admit_new_call(microseconds(200000), 1070));
  EXPECT_TRUE(guard.admit_new_call(microseconds(200000), 1119));
  EXPECT_FALSE(guard.admit_new_call(microseconds(200000), 1120));
}

TEST(OverloadGuardTest, AOneOffStallIsNotOverload) {
  // The thread stopped 700 ms (no samples meanwhile): everything that
  // waited through it is served, because it drains right away.
  OverloadGuard guard(milliseconds(100));
  guard.heartbeat(microseconds(0), microseconds(0), 5000);
  guard.heartbeat(microseconds(700000), microseconds(690000), 5710);
  for (std::int64_t t = 5710; t < 5715; ++t) EXPECT_TRUE(guard.admit_new_call(microseconds(680000), t));
  guard.heartbeat(microseconds(300), microseconds(0), 5720);
  EXPECT_TRUE(guard.admit_new_call(microseconds(0), 5721));
  EXPECT_EQ(guard.refused(), 0u);
}

TEST(OverloadGuardTest, LateHeartbeatsCountAsBehindEvenWithAnEmptyQueue) {
  // A stall on TCP shows in the heartbeat, not in the UDP queue.
  OverloadGuard guard(milliseconds(100));
  for (std::int64_t t = 0; t <= 60; t += 20) guard.heartbeat(microseconds(250000), microseconds(0), t);
  EXPECT_FALSE(guard.admit_new_call(microseconds(0), 61));
  guard.heartbeat(microseconds(1000), microseconds(0), 70);
  EXPECT_TRUE(guard.admit_new_call(microseconds(0), 71));
}

TEST(OverloadGuardTest, BackToNormalAfterASecondWithoutARefusal) {
  OverloadGuard guard(milliseconds(50));
  guard.heartbeat(microseconds(0), microseconds(60000), 9900);
  ASSERT_FALSE(guard.admit_new_call(microseconds(60000), 10000));
  guard.heartbeat(microseconds(0), microseconds(1000), 10010);  // caught up
  EXPECT_FALSE(guard.poll(10999));
  EXPECT_EQ(guard.state(), LoadState::shedding);
  guard.heartbeat(microseconds(0), microseconds(60000), 10470);
  ASSERT_FALSE(guard.admit_new_call(microseconds(60000), 10500));  // a refusal restarts the second
  guard.heartbeat(microseconds(0), microseconds(1000), 10510);
  EXPECT_FALSE(guard.poll(11499));
  EXPECT_TRUE(guard.poll(11500));
  EXPECT_EQ(guard.state(), LoadState::normal);
  EXPECT_FALSE(guard.poll(20000));
}

TEST(OverloadGuardTest, ALimitOfZeroNeverRefuses) {
  OverloadGuard guard(milliseconds(0));
  guard.heartbeat(microseconds(5000000), microseconds(9000000), 0);
  EXPECT_TRUE(guard.admit_new_call(microseconds(9000000), 100));
  guard.set_limit(milliseconds(10));
  EXPECT_TRUE(guard.admit_new_call(microseconds(9000000), 200));
  EXPECT_FALSE(guard.admit_new_call(microseconds(9000000), 250));
}

// The thread stays 200 ms behind while INVITEs keep coming (every 10 ms
// heartbeat, one INVITE in between): t is milliseconds.
void behind_with_invites(OverloadGuard& guard, std::int64_t from, std::int64_t to, microseconds behind) {
  for (std::int64_t t = from; t < to; t += 10) {
    guard.heartbeat(microseconds(0), behind, t);
    guard.admit_new_call(behind, t + 1);
    guard.poll(t + 1);
  }
}

TEST(OverloadGuardTest, WhenRefusingIsNotEnoughTheKernelDropsAGrowingShareOfNewInvites) {
  OverloadGuard guard(milliseconds(100));
  behind_with_invites(guard, 0, 100, microseconds(200000));
  EXPECT_EQ(guard.state(), LoadState::shedding) << "first 503s, no drops yet";
  EXPECT_EQ(guard.drop_steps(), 0u);
  behind_with_invites(guard, 100, 200, microseconds(200000));
  EXPECT_EQ(guard.state(), LoadState::dropping);
  EXPECT_EQ(guard.drop_steps(), 2u);
  behind_with_invites(guard, 200, 700, microseconds(200000));
  EXPECT_EQ(guard.drop_steps(), 12u) << "2/32 more every 100 ms";
  behind_with_invites(guard, 700, 3000, microseconds(200000));
  EXPECT_EQ(guard.drop_steps(), OverloadGuard::kDropSteps - 1) << "some new calls always get through";
  EXPECT_DOUBLE_EQ(guard.drop_fraction(), 31.0 / 32);
}

TEST(OverloadGuardTest, TheShareFallsOnceTheThreadCatchesUpAndTheStateReturnsToNormal) {
  OverloadGuard guard(milliseconds(100));
  behind_with_invites(guard, 0, 700, microseconds(200000));
  const unsigned peak = guard.drop_steps();
  ASSERT_GT(peak, 8u);
  // Between half the limit and the limit: the share holds.
  behind_with_invites(guard, 700, 1200, microseconds(70000));
  EXPECT_EQ(guard.drop_steps(), peak);
  // Caught up: 1/32 less every 100 ms, admitted all along.
  std::int64_t t = 1200;
  for (; guard.drop_steps() > 0 && t < 5000; t += 10) {
    guard.heartbeat(microseconds(0), microseconds(1000), t);
    EXPECT_TRUE(guard.admit_new_call(microseconds(1000), t + 1));
    guard.poll(t + 1);
  }
  EXPECT_NEAR(static_cast<double>(t - 1200), peak * 100.0, 110.0);
  EXPECT_EQ(guard.state(), LoadState::shedding) << "no drops, but refused within the last second";
  for (; t < 2600 + peak * 100; t += 10) {
    guard.heartbeat(microseconds(0), microseconds(1000), t);
    guard.poll(t);
  }
  EXPECT_EQ(guard.state(), LoadState::normal);
}

TEST(OverloadGuardTest, AStallWithNoNewCallsDropsNothing) {
  // Only in-dialog traffic while the thread is behind: nothing to drop.
  OverloadGuard guard(milliseconds(100));
  for (std::int64_t t = 0; t < 2000; t += 10) {
    guard.heartbeat(microseconds(300000), microseconds(300000), t);
    guard.poll(t);
  }
  EXPECT_EQ(guard.drop_steps(), 0u);
  EXPECT_EQ(guard.state(), LoadState::normal);
}

TEST(ReceiveQueueProbeTest, ReadsHowLongTheOldestDatagramHasWaitedAndLeavesItQueued) {
  const int receiver = socket(AF_INET, SOCK_DGRAM, 0);
  const int sender = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(receiver, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(receiver, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(getsockname(receiver, reinterpret_cast<sockaddr*>(&address), &length), 0);

  ReceiveQueueProbe probe;
  probe.watch({receiver});
  ASSERT_EQ(probe.watched(), 1u);
  EXPECT_EQ(probe.oldest_wait().count(), 0) << "nothing waiting";
  // The kernel turns receive stamping on from a work queue, moments after
  // the first socket asks; a datagram that arrives before is stamped when
  // first read (a wait of 0). The daemon watches from its start.
  std::this_thread::sleep_for(milliseconds(50));

  const char first[] = "OPTIONS sip:a SIP/2.0\r\n\r\n";
  ASSERT_GT(sendto(sender, first, sizeof first, 0, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  std::this_thread::sleep_for(milliseconds(60));
  ASSERT_GT(sendto(sender, first, sizeof first, 0, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  const auto wait = probe.oldest_wait();
  EXPECT_GE(wait.count(), 60000);
  EXPECT_LT(wait.count(), 5000000);
  // Peeking took nothing: both datagrams are still there, whole.
  char buffer[128];
  EXPECT_EQ(recv(receiver, buffer, sizeof buffer, MSG_DONTWAIT), static_cast<ssize_t>(sizeof first));
  EXPECT_LT(probe.oldest_wait().count(), 60000) << "the second one is the oldest now";
  EXPECT_EQ(recv(receiver, buffer, sizeof buffer, MSG_DONTWAIT), static_cast<ssize_t>(sizeof first));
  EXPECT_EQ(probe.oldest_wait().count(), 0);
  close(sender);
  close(receiver);
}

}  // namespace
}  // namespace sipgw::gateway
