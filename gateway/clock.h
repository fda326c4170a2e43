// Time as the call flow sees it: wall-clock milliseconds for CDRs and caps,
// and one-shot timers. The SIP thread's implementation runs on Sofia's
// su_timer (sofia_clock.h); unit tests drive a manual clock instead, so a
// 30 s ring timeout takes no time at all.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace sipgw::gateway {

class Clock {
 public:
  using TimerId = std::uint64_t;
  virtual ~Clock() = default;
  // Unix time in milliseconds.
  virtual std::int64_t now_ms() const = 0;
  // Runs fire once after `delay` on the SIP thread unless cancelled first.
  // Returns 0 when no timer could be created.
  virtual TimerId start_timer(std::chrono::milliseconds delay, std::function<void()> fire) = 0;
  virtual void cancel_timer(TimerId id) = 0;
};

// One timer owned by its object: cancelled when re-armed, cancelled or
// destroyed, so a callback never reaches an object that is gone.
class Timer {
 public:
  explicit Timer(Clock& clock) : clock_(&clock) {}
  ~Timer() { cancel(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // False when the clock could not create the timer.
  bool start(std::chrono::milliseconds delay, std::function<void()> fire) {
    cancel();
    id_ = clock_->start_timer(delay, [this, fire = std::move(fire)] {
      id_ = 0;
      fire();
    });
    return id_ != 0;
  }
  void cancel() {
    if (id_ != 0) clock_->cancel_timer(id_);
    id_ = 0;
  }

 private:
  Clock* clock_;
  Clock::TimerId id_ = 0;
};

}  // namespace sipgw::gateway
