// Clock on the SIP thread's su_root: one su_timer per started timer.
#pragma once

#include "gateway/clock.h"
#include "gateway/sofia.h"

#include <memory>
#include <unordered_map>

namespace sipgw::gateway {

class SofiaClock final : public Clock {
 public:
  explicit SofiaClock(su_root_t* root) : root_(root) {}
  ~SofiaClock() override;
  SofiaClock(const SofiaClock&) = delete;
  SofiaClock& operator=(const SofiaClock&) = delete;

  std::int64_t now_ms() const override;
  TimerId start_timer(std::chrono::milliseconds delay, std::function<void()> fire) override;
  void cancel_timer(TimerId id) override;

  // Runs after every timer callback (the registry collects what ended).
  std::function<void()> after_fire;

 private:
  struct Entry {
    su_timer_t* timer = nullptr;
    std::function<void()> fire;
  };
  static void on_timer(SofiaStacks*, su_timer_t* timer, SofiaClock* self);

  su_root_t* root_;
  TimerId next_id_ = 1;
  std::unordered_map<TimerId, Entry> entries_;
  std::unordered_map<su_timer_t*, TimerId> ids_;
};

}  // namespace sipgw::gateway
