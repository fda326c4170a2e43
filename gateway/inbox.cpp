#include "gateway/inbox.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>

namespace sipgw::gateway {

Inbox::Inbox() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw std::runtime_error("eventfd failed");
}

Inbox::~Inbox() {
  if (fd_ >= 0) close(fd_);
}

void Inbox::post(Job job) {
  bool was_empty;
  {
    std::lock_guard lock(mutex_);
    was_empty = jobs_.empty();
    jobs_.push_back(std::move(job));
  }
  if (was_empty) {
    std::uint64_t one = 1;
    // A full counter (never in practice) still leaves the fd readable.
    [[maybe_unused]] auto n = write(fd_, &one, sizeof one);
  }
}

std::size_t Inbox::drain() {
  std::uint64_t count;
  [[maybe_unused]] auto n = read(fd_, &count, sizeof count);
  std::size_t ran = 0;
  while (true) {
    std::deque<Job> batch;
    {
      std::lock_guard lock(mutex_);
      if (jobs_.empty()) return ran;
      batch.swap(jobs_);
    }
    for (auto& job : batch) {
      job();
      ++ran;
    }
  }
}

}  // namespace sipgw::gateway
