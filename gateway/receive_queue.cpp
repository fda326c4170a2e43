#include "gateway/receive_queue.h"

#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cstring>

namespace sipgw::gateway {

void ReceiveQueueProbe::watch(const std::vector<int>& udp_sockets) {
  sockets_.clear();
  for (int fd : udp_sockets) {
    const int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) == 0) sockets_.push_back(fd);
  }
}

std::chrono::microseconds ReceiveQueueProbe::oldest_wait() const {
  std::chrono::microseconds longest{0};
  if (sockets_.empty()) return longest;
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);  // the stamps are CLOCK_REALTIME
  for (int fd : sockets_) {
    char byte;
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (recvmsg(fd, &msg, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC) < 0) continue;  // nothing waiting
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
      timespec stamp{};
      std::memcpy(&stamp, CMSG_DATA(c), sizeof stamp);
      const auto wait = std::chrono::seconds(now.tv_sec - stamp.tv_sec) +
                        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::nanoseconds(now.tv_nsec - stamp.tv_nsec));
      longest = std::max(longest, std::chrono::duration_cast<std::chrono::microseconds>(wait));
    }
  }
  return longest;
}

}  // namespace sipgw::gateway
