// The only door into the SIP thread. Other threads post jobs; the SIP thread
// is woken through an eventfd (registered with its su_root) and runs every
// queued job. Sofia-SIP is not thread-safe, so nothing else may call it.
#pragma once

#include <deque>
#include <functional>
#include <mutex>

namespace sipgw::gateway {

class Inbox {
 public:
  using Job = std::function<void()>;

  Inbox();
  ~Inbox();
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  // The eventfd to watch for readability.
  int fd() const { return fd_; }

  // Any thread. The eventfd is written only when the queue was empty, so a
  // burst of posts costs one wakeup.
  void post(Job job);

  // SIP thread: clears the wakeup and runs every job queued so far (jobs
  // posted while running are run in the same call). Returns how many ran.
  std::size_t drain();

 private:
  int fd_ = -1;
  std::mutex mutex_;
  std::deque<Job> jobs_;
};

}  // namespace sipgw::gateway
