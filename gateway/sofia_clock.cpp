#include "gateway/sofia_clock.h"

namespace sipgw::gateway {

SofiaClock::~SofiaClock() {
  for (auto& [id, entry] : entries_) su_timer_destroy(entry.timer);
}

std::int64_t SofiaClock::now_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Clock::TimerId SofiaClock::start_timer(std::chrono::milliseconds delay, std::function<void()> fire) {
  su_timer_t* timer = su_timer_create(su_root_task(root_), 0);
  if (timer == nullptr) return 0;
  if (su_timer_set_interval(timer, on_timer, this, static_cast<su_duration_t>(delay.count())) != 0) {
    su_timer_destroy(timer);
    return 0;
  }
  const TimerId id = next_id_++;
  entries_.emplace(id, Entry{timer, std::move(fire)});
  ids_.emplace(timer, id);
  return id;
}

void SofiaClock::cancel_timer(TimerId id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  ids_.erase(it->second.timer);
  su_timer_destroy(it->second.timer);
  entries_.erase(it);
}

void SofiaClock::on_timer(SofiaStacks*, su_timer_t* timer, SofiaClock* self) {
  auto id = self->ids_.find(timer);
  if (id == self->ids_.end()) return;
  auto it = self->entries_.find(id->second);
  // Out of the table before it runs: the callback may start or cancel timers,
  // or destroy the object that owned this one.
  std::function<void()> fire = std::move(it->second.fire);
  self->ids_.erase(id);
  self->entries_.erase(it);
  su_timer_destroy(timer);
  fire();
  if (self->after_fire) self->after_fire();
}

}  // namespace sipgw::gateway
