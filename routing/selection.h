// Buyer selection for one call: the campaign's routes, lowest priority value
// first; among equal priorities a weighted random choice; only eligible
// buyers (enabled, inside their hours in their own time zone, under their
// concurrency, hourly and daily caps, reachable, not tried yet for this call).
//
// Plain C++ over the snapshot and a ledger of live counts; the clock and the
// random source are injected so every rule is unit-tested.
#pragma once

#include "routing/provisioning.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace sipgw::routing {

using TimePoint = std::chrono::system_clock::time_point;

// Live counts per buyer and publisher. Owned by the SIP thread (not locked).
class BuyerLedger {
 public:
  // Calls in progress (an attempt that rings or is connected).
  void attempt_started(const std::string& buyer_id) { in_progress_.up(buyer_id); }
  void attempt_ended(const std::string& buyer_id) { in_progress_.down(buyer_id); }
  std::int64_t in_progress(const std::string& buyer_id) const { return in_progress_.get(buyer_id); }

  // Caps count connected calls ("counted on connection").
  void connected(const std::string& buyer_id, TimePoint at);
  // Connected calls since the start of the current local hour / day in zone.
  std::int64_t connected_this_hour(const std::string& buyer_id, TimePoint now, const date::time_zone* zone) const;
  std::int64_t connected_today(const std::string& buyer_id, TimePoint now, const date::time_zone* zone) const;

  // Publisher concurrency.
  void publisher_call_started(const std::string& publisher_id) { publisher_calls_.up(publisher_id); }
  void publisher_call_ended(const std::string& publisher_id) { publisher_calls_.down(publisher_id); }
  std::int64_t publisher_calls(const std::string& publisher_id) const { return publisher_calls_.get(publisher_id); }

  // A publisher's connected calls (its hourly and daily caps, in UTC).
  void publisher_connected(const std::string& publisher_id, TimePoint at);
  std::int64_t publisher_connected_this_hour(const std::string& publisher_id, TimePoint now) const;
  std::int64_t publisher_connected_today(const std::string& publisher_id, TimePoint now) const;

  // Drops connection times older than two days (call now and then).
  void prune(TimePoint now);

 private:
  // Live counts by id; an id whose count returns to zero is forgotten.
  class Counts {
   public:
    void up(const std::string& id) { ++counts_[id]; }
    void down(const std::string& id);
    std::int64_t get(const std::string& id) const;

   private:
    std::unordered_map<std::string, std::int64_t> counts_;
  };

  using Connections = std::unordered_map<std::string, std::deque<TimePoint>>;  // ascending
  static void add(Connections& connections, const std::string& id, TimePoint at);
  static std::int64_t connected_since(const Connections& connections, const std::string& id, TimePoint since);
  static void prune(Connections& connections, TimePoint horizon);
  Counts in_progress_;
  Counts publisher_calls_;
  Connections connections_;            // buyers'
  Connections publisher_connections_;
};

// Why a buyer was passed over (for the log, and to tell 486 from 480).
enum class SkipReason { disabled, closed, busy, hourly_cap, daily_cap, no_trunk, tried, unknown };
std::string_view to_string(SkipReason reason);

struct Selection {
  const Buyer* buyer = nullptr;  // nullptr: nobody eligible
  // Every route passed over, with its reason.
  std::vector<std::pair<std::string, SkipReason>> skipped;
};

class BuyerSelector {
 public:
  explicit BuyerSelector(std::uint64_t seed = std::random_device{}()) : rng_(seed) {}

  Selection select(const Snapshot& snapshot, const Campaign& campaign, const BuyerLedger& ledger,
                   const std::unordered_set<std::string>& tried, TimePoint now);

 private:
  std::mt19937_64 rng_;
};

// Is the buyer inside its hours at `now` (in its own zone)?
bool is_open(const Buyer& buyer, TimePoint now);

}  // namespace sipgw::routing
