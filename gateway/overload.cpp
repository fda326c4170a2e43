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

bool OverloadGuard::admit_new_call(std::chrono::microseconds queue_wait, std::int64_t now_ms) {
  if (limit_.count() == 0) return true;
  const auto behind = std::max(queue_wait, lateness_);
  if (behind <= limit_) return true;
  ++refused_;
  ++refused_in_state_;
  last_refusal_ms_ = now_ms;
  if (state_ == LoadState::normal) transition(LoadState::shedding, behind);
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
