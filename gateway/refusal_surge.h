// Whether sipgw is refusing new requests faster than any real traffic
// explains: the sign of a flood from spoofed or ever-changing sources,
// which per-source limits and bans cannot catch.
//
// Why it matters: every refused INVITE is a server transaction Sofia keeps
// for 64 x T1 = 32 s, retransmitting its final response until an ACK that
// a spoofed source never sends (11 datagrams to the victim, about 10 KB of
// memory each; measured: 20,000 spoofed INVITEs grew sipgw from 18 to
// 212 MB). nua offers no stateless answer and no hook before the
// transaction exists (see drop_filter.h), so while a surge lasts sipgw
// shortens the transaction lifetime of its stacks instead
// (kSurgeTransactionLifetime, applied to transactions already waiting too)
// and gives the memory back to the system when the surge ends.
//
// Counted: final answers >= 300 to out-of-dialog requests before a call is
// admitted (403, 407, 404, 503 for a source's rate, ...). Shedding starts
// when one second holds `per_second` of them and ends after kCalmSeconds
// in a row each below half of that.
//
// Sofia-free; runs on the SIP thread; O(1) per refusal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace sipgw::gateway {

enum class SurgeState { calm, shedding };
std::string_view to_string(SurgeState state);

// 8 x T1: a refused INVITE's answer goes out 4 times (at 0, 0.5, 1.5 and
// 3.5 s) instead of 11, and the state is gone after 4 s instead of 32 s.
// The same bound then holds for every transaction: a publisher's ACK to a
// 200 must come within 4 s (it is retransmitted 3 times meanwhile), a buyer
// that sends nothing at all for 4 s is a failed attempt (any provisional
// response ends that timer), a BYE unanswered for 4 s is given up.
inline constexpr std::chrono::milliseconds kSurgeTransactionLifetime{4000};
inline constexpr std::chrono::milliseconds kNormalTransactionLifetime{32000};  // RFC 3261: 64 x T1
inline constexpr int kCalmSeconds = 10;

class RefusalSurge {
 public:
  // per_second: the setting security.surge_refusals (0: never shed).
  explicit RefusalSurge(std::uint32_t per_second) : per_second_(per_second) {}
  void set_threshold(std::uint32_t per_second);

  // One refusal at now_ms. True when this changed the state.
  bool refused(std::int64_t now_ms);
  // Time passing without refusals (called every few seconds). True when
  // this changed the state.
  bool poll(std::int64_t now_ms);

  SurgeState state() const { return state_; }
  std::chrono::milliseconds transaction_lifetime() const {
    return state_ == SurgeState::shedding ? kSurgeTransactionLifetime : kNormalTransactionLifetime;
  }

 private:
  // Closes the seconds before now_ms; true when the state changed.
  bool roll(std::int64_t now_ms);
  bool transition(SurgeState next, std::string_view why);

  std::uint32_t per_second_;
  SurgeState state_ = SurgeState::calm;
  std::int64_t second_ = 0;     // the second being counted
  std::uint32_t count_ = 0;     // refusals in it
  std::int64_t calm_since_ = 0;  // first second of the current calm run
};

}  // namespace sipgw::gateway
