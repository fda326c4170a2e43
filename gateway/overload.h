// Overload control at the door. When the SIP thread falls behind, new calls
// are refused with 503 + Retry-After before any call state exists, so the
// work already admitted (calls in setup, dialogs, in-dialog requests, the
// buyers' answers) keeps its time and finishes: a gateway that accepts
// more than it can serve fails every call, late (issue 12: offered 2,325
// calls/s it completed 550/s, a quarter of what it handles at 1,000/s).
//
// "Behind" is measured, not guessed: how long the oldest datagram waiting
// in the kernel's receive queue of a SIP UDP socket has waited (the
// queue's sojourn time, as CoDel measures it), and how late the SIP
// thread's 10 ms heartbeat fired (a stall on any transport, TCP included).
// Each new INVITE is admitted while both are under the limit, refused
// while either is over it: the queue settles near the limit and whatever
// the thread can serve is served. The refusal is cheap next to a call (an
// INVITE, nua's 100, the 503 and the ACK, against fourteen messages and two
// dialogs), and it comes before the publisher's INVITE timer fires (500
// ms), so no retransmission adds to the load.
//
// Sofia-free, SIP thread only. gateway/receive_queue.h measures the wait.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace sipgw::gateway {

enum class LoadState {
  normal,     // every new INVITE goes on to admission
  shedding,   // the last second refused at least one new INVITE
};
std::string_view to_string(LoadState state);

class OverloadGuard {
 public:
  // limit: the wait past which new calls are refused (0: never refused).
  explicit OverloadGuard(std::chrono::milliseconds limit) : limit_(limit) {}

  void set_limit(std::chrono::milliseconds limit) { limit_ = limit; }
  std::chrono::milliseconds limit() const { return limit_; }

  // How late the heartbeat fired (kept until the next one).
  void heartbeat(std::chrono::microseconds lateness) { lateness_ = lateness; }
  // A new INVITE: true admits it. queue_wait: the oldest waiting datagram's
  // wait now. now_ms: any monotonic milliseconds.
  bool admit_new_call(std::chrono::microseconds queue_wait, std::int64_t now_ms);
  // Every tick: back to normal after a second without a refusal. True when
  // the state changed.
  bool poll(std::int64_t now_ms);

  LoadState state() const { return state_; }
  std::uint64_t refused() const { return refused_; }

 private:
  bool transition(LoadState to, std::chrono::microseconds wait);

  std::chrono::milliseconds limit_;
  std::chrono::microseconds lateness_{0};
  LoadState state_ = LoadState::normal;
  std::int64_t last_refusal_ms_ = 0;
  std::uint64_t refused_ = 0;          // in all
  std::uint64_t refused_in_state_ = 0; // since shedding began (logged when it ends)
};

}  // namespace sipgw::gateway
