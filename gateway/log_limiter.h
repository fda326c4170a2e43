// Keeps a line that a flood can repeat (every refused INVITE) from becoming
// a disk-filling log: at most `per_second` such lines a second; the rest are
// counted, and the next line that is written says how many were left out.
// Sofia-free; one per kind of line, used on one thread.
#pragma once

#include <cstdint>

namespace sipgw::gateway {

class LogLimiter {
 public:
  explicit LogLimiter(int per_second) : per_second_(per_second) {}

  // Whether to write the line now. When true, suppressed() is how many were
  // left out since the last line written (say it in that line).
  bool allow(std::int64_t now_ms) {
    const std::int64_t second = now_ms / 1000;
    if (second != second_) {
      second_ = second;
      written_ = 0;
    }
    if (written_ >= per_second_) {
      ++pending_;
      return false;
    }
    ++written_;
    suppressed_ = pending_;
    pending_ = 0;
    return true;
  }
  std::uint64_t suppressed() const { return suppressed_; }

 private:
  int per_second_;
  std::int64_t second_ = -1;
  int written_ = 0;
  std::uint64_t pending_ = 0;
  std::uint64_t suppressed_ = 0;
};

}  // namespace sipgw::gateway
