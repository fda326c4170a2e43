#include "gateway/refusal_surge.h"

#include <spdlog/spdlog.h>

namespace sipgw::gateway {

std::string_view to_string(SurgeState state) { return state == SurgeState::calm ? "calm" : "shedding"; }

void RefusalSurge::set_threshold(std::uint32_t per_second) {
  per_second_ = per_second;
  if (per_second_ == 0) transition(SurgeState::calm, "security.surge_refusals is 0");
}

bool RefusalSurge::refused(std::int64_t now_ms) {
  bool changed = roll(now_ms);
  ++count_;
  if (state_ == SurgeState::calm && per_second_ > 0 && count_ >= per_second_) {
    changed |= transition(SurgeState::shedding, "refusals reached security.surge_refusals within one second");
  }
  return changed;
}

bool RefusalSurge::poll(std::int64_t now_ms) { return roll(now_ms); }

bool RefusalSurge::roll(std::int64_t now_ms) {
  const std::int64_t second = now_ms / 1000;
  if (second == second_) return false;
  // The second just closed was busy: a calm run can start only after it
  // (the silent seconds since, if any, belong to that run).
  if (count_ * 2 >= per_second_) calm_since_ = second_ + 1;
  second_ = second;
  count_ = 0;
  if (state_ == SurgeState::shedding && second - calm_since_ >= kCalmSeconds) {
    return transition(SurgeState::calm, "refusals stayed under half of security.surge_refusals");
  }
  return false;
}

bool RefusalSurge::transition(SurgeState next, std::string_view why) {
  if (next == state_) return false;
  spdlog::warn("refusal surge: {} -> {} ({}); transactions now live {} ms", to_string(state_), to_string(next), why,
               (next == SurgeState::shedding ? kSurgeTransactionLifetime : kNormalTransactionLifetime).count());
  state_ = next;
  return true;
}

}  // namespace sipgw::gateway
