#include "gateway/overload.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace sipgw::gateway {

std::string_view to_string(LoadState state) {
  switch (state) {
    case LoadState::normal: return "normal";
    case LoadState::shedding: return "shedding";
    case LoadState::dropping: return "dropping";
  }
  return "unknown";
}

void OverloadGuard::sample(std::chrono::microseconds behind, std::int64_t now_ms) {
  behind_ = behind;
  if (limit_.count() == 0 || behind <= limit_) {
    behind_since_ = -1;
  } else if (behind_since_ < 0) {
    behind_since_ = now_ms;
  }
}

void OverloadGuard::heartbeat(std::chrono::microseconds lateness, std::chrono::microseconds queue_wait,
                              std::int64_t now_ms) {
  lateness_ = lateness;
  sample(std::max(lateness, queue_wait), now_ms);
}

bool OverloadGuard::persistently_behind(std::int64_t now_ms) const {
  return behind_since_ >= 0 && now_ms - behind_since_ >= limit_.count() / 2;
}

bool OverloadGuard::admit_new_call(std::chrono::microseconds queue_wait, std::int64_t now_ms) {
  sample(std::max(queue_wait, lateness_), now_ms);
  if (!persistently_behind(now_ms)) return true;
  ++refused_;
  ++refused_in_state_;
  last_refusal_ms_ = now_ms;
  if (state_ == LoadState::normal) transition(LoadState::shedding, behind_);
  return false;
}

// Raised only while new calls are being refused (a stall with no INVITE
// in sight has nothing to drop), faster than it falls, so a surge is met
// within a second and the share then hovers where the thread keeps up.
void OverloadGuard::adjust_drops(std::int64_t now_ms) {
  if (now_ms - drops_adjusted_ms_ < 100) return;
  drops_adjusted_ms_ = now_ms;
  if (state_ != LoadState::normal && persistently_behind(now_ms)) {
    drop_steps_ = std::min(kDropSteps - 1, drop_steps_ + 2);
  } else if (drop_steps_ > 0 && behind_ <= limit_ / 2) {
    --drop_steps_;
  }
}

bool OverloadGuard::poll(std::int64_t now_ms) {
  adjust_drops(now_ms);
  if (drop_steps_ > 0) return transition(LoadState::dropping, behind_);
  if (state_ == LoadState::dropping) return transition(LoadState::shedding, behind_);
  if (state_ == LoadState::shedding && now_ms - last_refusal_ms_ >= 1000) {
    return transition(LoadState::normal, lateness_);
  }
  return false;
}

bool OverloadGuard::transition(LoadState to, std::chrono::microseconds wait) {
  if (to == state_) return false;
  if (to == LoadState::dropping) {
    spdlog::warn("overload: {} -> {}: the SIP thread is {} ms behind although it refuses new calls; the kernel drops a share "
                 "of new INVITEs ({}/{} now)",
                 to_string(state_), to_string(to), wait.count() / 1000, drop_steps_, kDropSteps);
  } else if (to == LoadState::shedding && state_ == LoadState::dropping) {
    spdlog::warn("overload: {} -> {}: the kernel drops no more INVITEs; new calls get 503 while the thread is behind",
                 to_string(state_), to_string(to));
  } else if (to == LoadState::shedding) {
    spdlog::warn("overload: {} -> {}: the SIP thread is {} ms behind (limit {} ms); new calls get 503 until it catches up",
                 to_string(state_), to_string(to), wait.count() / 1000, limit_.count());
  } else {
    spdlog::warn("overload: {} -> {}: caught up after refusing {} new call(s)", to_string(state_), to_string(to),
                 refused_in_state_);
    refused_in_state_ = 0;
  }
  state_ = to;
  return true;
}

}  // namespace sipgw::gateway
