#include "gateway/overload.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace sipgw::gateway {

std::string_view to_string(LoadState state) {
  switch (state) {
    case LoadState::normal: return "normal";
    case LoadState::shedding: return "shedding";
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

bool OverloadGuard::admit_new_call(std::chrono::microseconds queue_wait, std::int64_t now_ms) {
  sample(std::max(queue_wait, lateness_), now_ms);
  if (behind_since_ < 0 || now_ms - behind_since_ < limit_.count() / 2) return true;
  ++refused_;
  ++refused_in_state_;
  last_refusal_ms_ = now_ms;
  if (state_ == LoadState::normal) transition(LoadState::shedding, behind_);
  return false;
}

bool OverloadGuard::poll(std::int64_t now_ms) {
  if (state_ == LoadState::shedding && now_ms - last_refusal_ms_ >= 1000) {
    return transition(LoadState::normal, lateness_);
  }
  return false;
}

bool OverloadGuard::transition(LoadState to, std::chrono::microseconds wait) {
  if (to == state_) return false;
  if (to == LoadState::shedding) {
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
