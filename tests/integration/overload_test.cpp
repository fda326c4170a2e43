// Overload control with the real daemon: a stalled SIP thread (SIGSTOP, as
// a long garbage-collection-like pause or a starved core would hold it)
// finds new INVITEs waiting in its receive queue; they get 503 with
// Retry-After, the calls it already carries finish untouched, and the next
// call after the backlog is served again.
#include "harness.h"

#include <csignal>
#include <cstdio>
#include <sstream>

namespace sipgw::integration {
namespace {

// Bytes waiting in the receive queue of the UDP socket bound to
// 127.0.0.1:port (/proc/net/udp), or -1 when there is none.
long udp_queue_bytes(int port) {
  std::istringstream table(slurp("/proc/net/udp"));
  std::string line;
  char local[32];
  std::snprintf(local, sizeof local, "0100007F:%04X", port);
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, address, remote, state, queues;
    fields >> slot >> address >> remote >> state >> queues;
    if (address != local) continue;
    const auto colon = queues.find(':');
    if (colon == std::string::npos) return -1;
    return std::stol(queues.substr(colon + 1), nullptr, 16);
  }
  return -1;
}

class Overload : public GatewayTest {
 protected:
  // With the daemon stopped: waits until what a publisher sends has all
  // arrived (the queue stopped growing for 150 ms), however slowly it
  // started, and at least `at_least`.
  void wait_for_queued(std::chrono::milliseconds at_least) {
    const auto start = std::chrono::steady_clock::now();
    long last = -1;
    auto stable_since = start;
    while (std::chrono::steady_clock::now() - start < 10s) {
      const long now = udp_queue_bytes(sip_port_);
      if (now != last) {
        last = now;
        stable_since = std::chrono::steady_clock::now();
      }
      const auto elapsed = std::chrono::steady_clock::now() - start;
      if (last > 0 && elapsed >= at_least && std::chrono::steady_clock::now() - stable_since >= 150ms) return;
      std::this_thread::sleep_for(10ms);
    }
    ADD_FAILURE() << "the INVITEs never reached the stopped daemon's queue";
  }
};

TEST_F(Overload, AStalledSipThreadRefusesTheCallsThatWaitedAndKeepsTheCallsItCarries) {
  provision_basic();
  ASSERT_EQ(ctl({"setting", "set", "sip.overload_wait", "100"}), 0);
  start_with_metrics();
  // Five calls up and held 4 s, and one more later: six answers.
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"}, 0, {"-m", "6"});
  auto carried = place({}, {"-m", "5", "-r", "20", "-d", "4000"});
  ASSERT_TRUE(eventually([&] { return has_line(scrape(), "sipgw_calls_active 5"); })) << scrape();

  // The SIP thread stops while ten new INVITEs arrive; it resumes once they
  // are all queued and have waited at least 150 ms, over the 100 ms limit.
  gateway_.signal(SIGSTOP);
  publisher_port_ = free_port();
  PublisherPlan refused;
  refused.expect = 503;
  refused.expect_retry_after = true;
  auto late = place(refused, {"-m", "10", "-r", "100"});
  wait_for_queued(400ms);
  gateway_.signal(SIGCONT);

  EXPECT_EQ(late.wait(), 0) << "every INVITE that waited got 503 with Retry-After";
  EXPECT_EQ(carried.wait(), 0) << "the five calls in progress ended normally";
  std::string m = scrape();
  EXPECT_TRUE(has_line(m, "sipgw_requests_refused_total{cause=\"overload\"} 10")) << m;
  // The stall is in the loop-lag histogram: a heartbeat over 0.25 s late.
  const double all = metric(m, "sipgw_sip_loop_lag_seconds_count");
  const double on_time = metric(m, "sipgw_sip_loop_lag_seconds_bucket{le=\"0.25\"}");
  EXPECT_GT(all, 0) << m;
  EXPECT_GE(all - on_time, 1) << m;

  // Caught up: the next call is served, and the state goes back to normal.
  publisher_port_ = free_port();
  auto next = place({});
  EXPECT_EQ(next.wait(), 0) << "a call after the backlog is answered";
  EXPECT_EQ(b.wait(), 0) << "the buyer took exactly the six admitted calls";
  EXPECT_TRUE(eventually([&] { return has_line(scrape(), "sipgw_overload 0"); })) << scrape();
  EXPECT_NE(gateway_.log().find("overload: normal -> shedding"), std::string::npos);
  EXPECT_NE(gateway_.log().find("overload: shedding -> normal: caught up after refusing 10 new call(s)"), std::string::npos)
      << gateway_.log();
  const auto rows = calls(6);
  EXPECT_EQ(rows.size(), 6u) << "refused INVITEs leave no call record";
}

TEST_F(Overload, WithTheLimitAtZeroTheSameStallRefusesNothing) {
  provision_basic();
  ASSERT_EQ(ctl({"setting", "set", "sip.overload_wait", "0"}), 0);
  start_with_metrics();
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"}, 0, {"-m", "3"});
  gateway_.signal(SIGSTOP);
  auto waited = place({}, {"-m", "3", "-r", "100"});
  wait_for_queued(400ms);
  gateway_.signal(SIGCONT);
  EXPECT_EQ(waited.wait(), 0) << "all three answered despite the wait";
  EXPECT_EQ(b.wait(), 0);
  const std::string m = scrape();
  EXPECT_EQ(metric(m, "sipgw_requests_refused_total{cause=\"overload\"}"), -1) << m;
}

}  // namespace
}  // namespace sipgw::integration
