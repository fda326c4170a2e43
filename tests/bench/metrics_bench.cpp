// Metrics cost per call: the exact sequence of metric updates the SIP thread
// makes for one answered call (requests, invite, call and buyer gauges, two
// histograms, attempt and outcome counters), timed over many calls, plus
// the cost of one /metrics scrape. Prints numbers; asserts nothing.
// Usage: metrics_bench [CALLS]
#include "gateway/metrics.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  const int calls = argc > 1 ? std::atoi(argv[1]) : 2000000;
  sipgw::gateway::Metrics m("bench");
  std::vector<std::string> domains = {"sip.example.com", "ip.example.com"};
  std::vector<std::string> buyers;
  for (int i = 0; i < 50; ++i) buyers.push_back("buyer" + std::to_string(i));
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) {
    const std::string& domain = domains[i & 1];
    const std::string& buyer = buyers[i % 50];
    m.request_received("INVITE");
    m.invite(domain, "admitted");
    m.call_started();
    m.buyer_call_started(buyer);
    m.post_dial_delay(0.0012);
    m.buyer_attempt(buyer, "answered");
    m.call_setup(0.0021);
    m.request_received("ACK");
    m.request_received("BYE");
    m.buyer_call_ended(buyer);
    m.call_ended("answered");
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("metrics per answered call (11 updates, 2 domains, 50 buyers): %.0f ns/call, %.1f M calls/s on one thread\n",
              secs / calls * 1e9, calls / secs / 1e6);
  auto t1 = std::chrono::steady_clock::now();
  std::size_t bytes = 0;
  constexpr int kScrapes = 200;
  for (int i = 0; i < kScrapes; ++i) bytes += m.serialize().size();
  double scrape = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count() / kScrapes;
  std::printf("one /metrics scrape: %.0f us, %zu bytes\n", scrape * 1e6, bytes / kScrapes);
  return 0;
}
