// How fast one source may send requests. Two token buckets per source
// address: one for every request it sends, a tighter one for requests that
// start something (out of dialog: INVITE, OPTIONS). A request over either
// is refused (503 with Retry-After); a source refused many times within one
// second is flooding, and the caller bans it so the kernel drops it (see
// drop_filter.h).
//
// Sofia-free; runs on the SIP thread; O(1) per request. Memory is fixed at
// construction: sources live in a set-associative table (four ways per
// set, the least recently seen one gives way), so a flood from spoofed,
// ever-changing addresses cannot grow it; at worst it evicts a real
// source's buckets, which then start full again (the limit is briefly
// lenient, never stricter).
#pragma once

#include "auth/cidr.h"

#include <cstdint>
#include <vector>

namespace sipgw::gateway {

// The settings security.request_rate and security.new_request_rate
// (requests a second; 0: no limit). A bucket holds two seconds' worth.
struct RatePolicy {
  std::uint32_t requests_per_second = 1000;
  std::uint32_t new_requests_per_second = 300;
};

enum class RateVerdict {
  pass,
  over,   // refuse this one
  flood,  // refuse it, and this source just crossed the flood line
};

class SourceRateLimiter {
 public:
  // Room for about `sources` addresses (rounded up to a power of two).
  explicit SourceRateLimiter(std::size_t sources = 16384);

  // One request from source; new_request: out of dialog.
  RateVerdict admit(const auth::IpAddress& source, bool new_request, std::int64_t now_ms, const RatePolicy& policy);
  // Refusals within one second that make a source a flood: twice its rate,
  // and at least 10.
  static std::uint32_t flood_line(std::uint32_t per_second);
  std::size_t capacity() const { return slots_.size(); }

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t at_ms = 0;
    bool take(std::uint32_t per_second, std::int64_t now_ms);
  };
  struct Slot {
    auth::IpAddress source{};
    bool used = false;
    std::int64_t seen_ms = 0;
    Bucket all;
    Bucket fresh;  // out-of-dialog requests
    std::int64_t window_ms = 0;
    std::uint32_t refused = 0;  // within the second from window_ms
  };
  Slot& slot_for(const auth::IpAddress& source, std::int64_t now_ms, const RatePolicy& policy);

  std::vector<Slot> slots_;
  std::size_t set_mask_ = 0;
};

}  // namespace sipgw::gateway
