// Overload control with the real daemon. SIGSTOP holds the SIP thread
// while INVITEs pile up in its receive queue: more than it can clear in
// half the limit and it is behind, so the INVITEs it reaches late get 503 with
// Retry-After while the calls it already carries finish untouched; a
// short pile after a one-off stall is simply served.
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

TEST_F(Overload, ABacklogItCannotClearRefusesNewCallsWith503AndKeepsTheCallsItCarries) {
  provision_basic();
  ASSERT_EQ(ctl({"setting", "set", "sip.overload_wait", "20"}), 0);
  start_with_metrics();
  // Five calls up and held 5 s; the buyer answers whatever is admitted.
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"}, 0, {"-m", "1000"});
  auto carried = place({}, {"-m", "5", "-r", "20", "-d", "5000"});
  ASSERT_TRUE(eventually([&] { return has_line(scrape(), "sipgw_calls_active 5"); })) << scrape();

  // The SIP thread stops while 200 new INVITEs arrive in 100 ms; once it
  // resumes, its queue holds more than it can clear in 10 ms (half the 20 ms
  // limit), so it stays behind, and the INVITEs it reaches late get 503.
  // (Where the kernel's receive buffer is small, net.core.rmem_max, some
  // are dropped and come again 0.5 s later: served or refused, either is
  // fine.)
  gateway_.signal(SIGSTOP);
  publisher_port_ = free_port();
  PublisherPlan burst;
  burst.may_be_refused = true;
  auto late = place(burst, {"-m", "200", "-r", "2000", "-l", "200"});
  wait_for_queued(300ms);
  gateway_.signal(SIGCONT);

  EXPECT_EQ(late.wait(60s), 0) << "every INVITE got either a whole call or 503";
  EXPECT_EQ(carried.wait(), 0) << "the five calls in progress ended normally";
  std::string m = scrape();
  const double refused = metric(m, "sipgw_requests_refused_total{cause=\"overload\"}");
  EXPECT_GE(refused, 1) << m;
  EXPECT_LT(refused, 200) << "the first of the backlog are served: the thread is not behind until 10 ms of it" << m;
  // The stop is in the loop-lag histogram: a heartbeat over 0.25 s late.
  EXPECT_GE(metric(m, "sipgw_sip_loop_lag_seconds_count") - metric(m, "sipgw_sip_loop_lag_seconds_bucket{le=\"0.25\"}"), 1)
      << m;

  // Caught up: the next call is served, and the state goes back to normal.
  publisher_port_ = free_port();
  auto next = place({});
  EXPECT_EQ(next.wait(), 0) << "a call after the backlog is answered";
  EXPECT_TRUE(eventually([&] { return has_line(scrape(), "sipgw_overload 0"); })) << scrape();
  EXPECT_NE(gateway_.log().find("overload: normal -> shedding"), std::string::npos);
  EXPECT_NE(gateway_.log().find("overload: shedding -> normal: caught up after refusing"), std::string::npos);
  // Refused INVITEs leave no call record: 5 carried, the admitted part of
  // the burst, the one after.
  const auto records = static_cast<std::size_t>(5 + (200 - refused) + 1);
  nlohmann::json rows;
  EXPECT_TRUE(eventually([&] {
    rows = ctl_json({"calls", "list", "--limit", "1000"});
    return rows.is_array() && rows.size() == records;
  })) << rows.size() << " records, expected " << records;
  b.kill_now();
}

TEST_F(Overload, AOneOffStallServesTheCallsThatWaitedThroughIt) {
  provision_basic();
  start_with_metrics();
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"}, 0, {"-m", "10"});
  gateway_.signal(SIGSTOP);
  auto waited = place({}, {"-m", "10", "-r", "100"});
  wait_for_queued(400ms);
  gateway_.signal(SIGCONT);
  EXPECT_EQ(waited.wait(), 0) << "all ten answered though each waited over 0.4 s";
  EXPECT_EQ(b.wait(), 0);
  const std::string m = scrape();
  EXPECT_EQ(metric(m, "sipgw_requests_refused_total{cause=\"overload\"}"), -1) << m;
  EXPECT_TRUE(has_line(m, "sipgw_overload 0")) << m;
}

}  // namespace
}  // namespace sipgw::integration
