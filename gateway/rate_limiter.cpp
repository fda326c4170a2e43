#include "gateway/rate_limiter.h"

#include <algorithm>
#include <bit>

namespace sipgw::gateway {

namespace {

constexpr std::size_t kWays = 4;

std::size_t hash_of(const auth::IpAddress& a) {
  const auto lo = static_cast<std::uint64_t>(a.value);
  const auto hi = static_cast<std::uint64_t>(a.value >> 64);
  std::uint64_t h = (lo ^ (hi * 0x9E3779B97F4A7C15ull)) * 0xBF58476D1CE4E5B9ull;
  h ^= h >> 31;
  return static_cast<std::size_t>(h);
}

}  // namespace

SourceRateLimiter::SourceRateLimiter(std::size_t sources) {
  const std::size_t sets = std::bit_ceil(std::max<std::size_t>(1, sources / kWays));
  slots_.resize(sets * kWays);
  set_mask_ = sets - 1;
}

std::uint32_t SourceRateLimiter::flood_line(std::uint32_t per_second) { return std::max<std::uint32_t>(10, 2 * per_second); }

bool SourceRateLimiter::Bucket::take(std::uint32_t per_second, std::int64_t now_ms) {
  if (per_second == 0) return true;
  const double capacity = 2.0 * per_second;
  tokens = std::min(capacity, tokens + static_cast<double>(now_ms - at_ms) * per_second / 1000.0);
  at_ms = now_ms;
  if (tokens < 1.0) return false;
  tokens -= 1.0;
  return true;
}

SourceRateLimiter::Slot& SourceRateLimiter::slot_for(const auth::IpAddress& source, std::int64_t now_ms,
                                                     const RatePolicy& policy) {
  Slot* set = &slots_[(hash_of(source) & set_mask_) * kWays];
  Slot* victim = set;
  for (std::size_t i = 0; i < kWays; ++i) {
    if (set[i].used && set[i].source == source) return set[i];
    if (!set[i].used) {
      if (victim->used) victim = &set[i];
    } else if (victim->used && set[i].seen_ms < victim->seen_ms) {
      victim = &set[i];
    }
  }
  // A new source starts with full buckets.
  *victim = Slot{source, true, now_ms, {2.0 * policy.requests_per_second, now_ms},
                 {2.0 * policy.new_requests_per_second, now_ms}, now_ms, 0};
  return *victim;
}

RateVerdict SourceRateLimiter::admit(const auth::IpAddress& source, bool new_request, std::int64_t now_ms,
                                     const RatePolicy& policy) {
  if (policy.requests_per_second == 0 && policy.new_requests_per_second == 0) return RateVerdict::pass;
  Slot& slot = slot_for(source, now_ms, policy);
  slot.seen_ms = now_ms;
  const bool all_ok = slot.all.take(policy.requests_per_second, now_ms);
  const bool fresh_ok = !new_request || slot.fresh.take(policy.new_requests_per_second, now_ms);
  if (all_ok && fresh_ok) return RateVerdict::pass;
  if (now_ms - slot.window_ms >= 1000) {
    slot.window_ms = now_ms;
    slot.refused = 0;
  }
  ++slot.refused;
  const std::uint32_t rate = !fresh_ok && policy.new_requests_per_second > 0 ? policy.new_requests_per_second
                                                                            : policy.requests_per_second;
  return slot.refused == flood_line(rate) ? RateVerdict::flood : RateVerdict::over;
}

}  // namespace sipgw::gateway
