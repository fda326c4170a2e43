// Buyer selection benchmark: a campaign with 50 buyers over 5 priorities,
// each with hours and caps in its own time zone (the expensive case: every
// eligibility check converts "now" into the buyer's local time). Prints
// selections per second; asserts nothing. Usage: selection_bench [N]
#include "routing/selection.h"
#include "routing/time_zone.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

using namespace sipgw::routing;

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 1000000;
  const char* zones[] = {"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Europe/London"};
  Snapshot s;
  Campaign& c = s.campaigns["c"];
  c.id = "c";
  BuyerLedger ledger;
  auto now = std::chrono::system_clock::now();
  for (int i = 0; i < 50; ++i) {
    Buyer b;
    b.id = "buyer" + std::to_string(i);
    b.target = "sip:" + b.id + "@pbx.example.com";
    b.time_zone = *find_time_zone(zones[i % 5]);
    b.hours = *parse_hours("daily 00:00-24:00");  // open, but evaluated
    b.concurrency_cap = 1000;
    b.hourly_cap = 100000;
    b.daily_cap = 1000000;
    for (int k = 0; k < 50; ++k) ledger.connected(b.id, now - std::chrono::minutes(k));
    s.buyers[b.id] = b;
    c.routes.push_back({b.id, i / 10, 1 + i % 3});
  }
  BuyerSelector selector(1);
  std::unordered_set<std::string> tried;
  // The first priority group is tried first: exclude it so every selection
  // walks 10 ineligible buyers before drawing among the next 10.
  for (int i = 0; i < 10; ++i) tried.insert("buyer" + std::to_string(i));
  std::size_t found = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) found += selector.select(s, c, ledger, tried, now).buyer != nullptr;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("buyer selection, 50 buyers (5 zones, hours and 3 caps each, first group excluded): %.0f selections/s "
              "(%.2f us each, %zu found)\n",
              n / secs, secs / n * 1e6, found);
  return 0;
}
