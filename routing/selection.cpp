#include "routing/selection.h"

#include <date/tz.h>

#include <algorithm>

namespace sipgw::routing {

namespace {

using std::chrono::floor;

// The UTC instant the local hour or day containing `now` began in `zone`.
TimePoint local_start(TimePoint now, const date::time_zone* zone, bool day) {
  if (zone == nullptr) zone = date::locate_zone("UTC");
  auto local = zone->to_local(floor<std::chrono::seconds>(now));
  date::local_seconds start = day ? date::local_seconds(floor<date::days>(local))
                                  : date::local_seconds(floor<std::chrono::hours>(local));
  // A local midnight that does not exist (DST gap) or exists twice: take
  // the earliest instant, so the count covers the whole local day.
  auto info = zone->get_info(start);
  if (info.result == date::local_info::nonexistent) return info.first.end;
  return zone->to_sys(start, date::choose::earliest);
}

}  // namespace

void BuyerLedger::Counts::down(const std::string& id) {
  auto it = counts_.find(id);
  if (it != counts_.end() && --it->second <= 0) counts_.erase(it);
}

std::int64_t BuyerLedger::Counts::get(const std::string& id) const {
  auto it = counts_.find(id);
  return it == counts_.end() ? 0 : it->second;
}

void BuyerLedger::add(Connections& connections, const std::string& id, TimePoint at) {
  auto& times = connections[id];
  // Restored CDRs may arrive out of order; keep the deque sorted.
  times.insert(std::upper_bound(times.begin(), times.end(), at), at);
}

std::int64_t BuyerLedger::connected_since(const Connections& connections, const std::string& id, TimePoint since) {
  auto it = connections.find(id);
  if (it == connections.end()) return 0;
  const auto& times = it->second;
  return static_cast<std::int64_t>(times.end() - std::lower_bound(times.begin(), times.end(), since));
}

void BuyerLedger::prune(Connections& connections, TimePoint horizon) {
  for (auto it = connections.begin(); it != connections.end();) {
    auto& times = it->second;
    times.erase(times.begin(), std::lower_bound(times.begin(), times.end(), horizon));
    it = times.empty() ? connections.erase(it) : std::next(it);
  }
}

void BuyerLedger::connected(const std::string& buyer_id, TimePoint at) { add(connections_, buyer_id, at); }

std::int64_t BuyerLedger::connected_this_hour(const std::string& buyer_id, TimePoint now, const date::time_zone* zone) const {
  return connected_since(connections_, buyer_id, local_start(now, zone, false));
}

std::int64_t BuyerLedger::connected_today(const std::string& buyer_id, TimePoint now, const date::time_zone* zone) const {
  return connected_since(connections_, buyer_id, local_start(now, zone, true));
}

void BuyerLedger::publisher_connected(const std::string& publisher_id, TimePoint at) {
  add(publisher_connections_, publisher_id, at);
}

std::int64_t BuyerLedger::publisher_connected_this_hour(const std::string& publisher_id, TimePoint now) const {
  if (publisher_connections_.empty()) return 0;
  return connected_since(publisher_connections_, publisher_id, floor<std::chrono::hours>(now));
}

std::int64_t BuyerLedger::publisher_connected_today(const std::string& publisher_id, TimePoint now) const {
  if (publisher_connections_.empty()) return 0;
  return connected_since(publisher_connections_, publisher_id, floor<date::days>(now));
}

void BuyerLedger::prune(TimePoint now) {
  const auto horizon = now - std::chrono::hours(50);  // a local day is at most 25 h; keep two
  prune(connections_, horizon);
  prune(publisher_connections_, horizon);
}

std::string_view to_string(SkipReason reason) {
  switch (reason) {
    case SkipReason::disabled: return "disabled";
    case SkipReason::closed: return "outside hours";
    case SkipReason::busy: return "at concurrency cap";
    case SkipReason::hourly_cap: return "at hourly cap";
    case SkipReason::daily_cap: return "at daily cap";
    case SkipReason::no_trunk: return "PSTN target but no trunk configured";
    case SkipReason::tried: return "already tried";
    case SkipReason::unknown: return "unknown buyer";
  }
  return "unknown";
}

bool is_open(const Buyer& buyer, TimePoint now) {
  if (buyer.hours.is_always_open()) return true;
  const date::time_zone* zone = buyer.time_zone ? buyer.time_zone : date::locate_zone("UTC");
  auto local = zone->to_local(floor<std::chrono::seconds>(now));
  auto day = floor<date::days>(local);
  date::weekday weekday{day};
  auto minutes = floor<std::chrono::minutes>(local - day).count();
  return buyer.hours.is_open(weekday.c_encoding(), static_cast<unsigned>(minutes));
}

Selection BuyerSelector::select(const Snapshot& s, const Campaign& campaign, const BuyerLedger& ledger,
                                const std::unordered_set<std::string>& tried, TimePoint now) {
  Selection result;
  auto eligible = [&](const Route& route) -> std::optional<SkipReason> {
    if (tried.count(route.buyer_id)) return SkipReason::tried;
    const Buyer* b = s.find_buyer(route.buyer_id);
    if (b == nullptr) return SkipReason::unknown;
    if (!b->enabled) return SkipReason::disabled;
    if (b->target_kind == TargetKind::pstn && !s.trunk) return SkipReason::no_trunk;
    if (!is_open(*b, now)) return SkipReason::closed;
    if (b->concurrency_cap && ledger.in_progress(b->id) >= *b->concurrency_cap) return SkipReason::busy;
    if (b->hourly_cap && ledger.connected_this_hour(b->id, now, b->time_zone) >= *b->hourly_cap) return SkipReason::hourly_cap;
    if (b->daily_cap && ledger.connected_today(b->id, now, b->time_zone) >= *b->daily_cap) return SkipReason::daily_cap;
    return std::nullopt;
  };
  // Routes are sorted by priority in the snapshot; walk one priority group
  // at a time and draw by weight among its eligible members.
  const auto& routes = campaign.routes;
  std::vector<const Route*> group;
  for (std::size_t i = 0; i < routes.size();) {
    std::size_t j = i;
    group.clear();
    std::int64_t total = 0;
    for (; j < routes.size() && routes[j].priority == routes[i].priority; ++j) {
      if (auto skip = eligible(routes[j])) {
        result.skipped.emplace_back(routes[j].buyer_id, *skip);
      } else {
        group.push_back(&routes[j]);
        total += routes[j].weight;
      }
    }
    if (!group.empty()) {
      std::uniform_int_distribution<std::int64_t> draw(0, total - 1);
      std::int64_t pick = draw(rng_);
      for (const Route* r : group) {
        pick -= r->weight;
        if (pick < 0) {
          result.buyer = s.find_buyer(r->buyer_id);
          return result;
        }
      }
    }
    i = j;
  }
  return result;
}

}  // namespace sipgw::routing
