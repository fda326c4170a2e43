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
// A new INVITE is refused once the thread has been behind by more than the
// limit for half the limit in a row (every sample since over it), and
// admitted otherwise: a one-off stall (a page-fault storm, the heap handed
// back, a debugger) leaves a queue that drains in milliseconds, and the
// calls that waited through it are served, not refused; a thread that
// stays behind refuses new calls until its queue is short again. The queue
// then settles near the limit and whatever the thread can serve is served.
// The refusal is cheaper than a call (an INVITE, nua's 100, the 503 and
// the ACK, against fourteen messages and two dialogs), and it comes before
// the publisher's INVITE timer fires (500 ms), so no retransmission adds to
// the load.
//
// But not free: through nua a refusal costs a third of a call, so offered
// twice what it can serve the thread spent half its time refusing (goodput
// 45 % of its maximum, measured) and offered four times, all of it. So
// when the thread stays behind although it refuses, the kernel drops a
// share of new calls' INVITEs on the SIP UDP sockets before Sofia sees
// them (gateway/drop_filter.h: no parse, no state, no answer): the share
// rises by 2/32 every 100 ms the thread stays behind and falls by 1/32
// every 100 ms it is less than half the limit behind, to at most 31/32
// (some new calls always get through). A dropped INVITE is retransmitted
// by its publisher and may pass next time; a publisher that gives up sees
// a timeout rather than a 503. In-dialog requests never match (their
// Request-URI is sipgw's Contact, which has no user part), nor do INVITEs
// over TCP (their payload offset varies): those still get 503.
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
  dropping,   // refusing is not enough: the kernel drops a share of new INVITEs too
};
std::string_view to_string(LoadState state);

class OverloadGuard {
 public:
  // limit: the wait past which the thread is behind (0: never refuse).
  explicit OverloadGuard(std::chrono::milliseconds limit) : limit_(limit) {}

  void set_limit(std::chrono::milliseconds limit) { limit_ = limit; }
  std::chrono::milliseconds limit() const { return limit_; }

  // Every heartbeat: how late it fired and the oldest waiting datagram's
  // wait. now_ms: any monotonic milliseconds (the same in every call).
  void heartbeat(std::chrono::microseconds lateness, std::chrono::microseconds queue_wait, std::int64_t now_ms);
  // A new INVITE, with the queue's wait now: true admits it.
  bool admit_new_call(std::chrono::microseconds queue_wait, std::int64_t now_ms);
  // Every heartbeat: the kernel's share adjusted (every 100 ms), dropping
  // while it is above 0, back to normal after a second without a refusal.
  // True when the state changed.
  bool poll(std::int64_t now_ms);

  LoadState state() const { return state_; }
  std::uint64_t refused() const { return refused_; }
  // The share of new INVITEs the kernel should drop, in 1/kDropSteps.
  static constexpr unsigned kDropSteps = 32;
  unsigned drop_steps() const { return drop_steps_; }
  double drop_fraction() const { return static_cast<double>(drop_steps_) / kDropSteps; }

 private:
  void sample(std::chrono::microseconds behind, std::int64_t now_ms);
  bool transition(LoadState to, std::chrono::microseconds wait);
  bool persistently_behind(std::int64_t now_ms) const;
  void adjust_drops(std::int64_t now_ms);

  std::chrono::milliseconds limit_;
  std::chrono::microseconds lateness_{0};  // of the last heartbeat
  std::chrono::microseconds behind_{0};    // the last sample
  std::int64_t behind_since_ = -1;         // first of the samples over the limit in a row (-1: the last was not)
  LoadState state_ = LoadState::normal;
  std::int64_t last_refusal_ms_ = 0;
  std::uint64_t refused_ = 0;           // in all
  std::uint64_t refused_in_state_ = 0;  // since shedding began (logged when it ends)
  unsigned drop_steps_ = 0;
  std::int64_t drops_adjusted_ms_ = 0;
};

}  // namespace sipgw::gateway
