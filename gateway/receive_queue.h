// How long the oldest datagram waiting at sipgw's SIP UDP sockets has been
// waiting: the kernel stamps each datagram as it arrives (SO_TIMESTAMPNS,
// switched on here), and a peek at the head of the queue (MSG_PEEK, no data
// copied, the message stays for Sofia) reads the stamp. Sofia's own
// recvmsg passes no control buffer, so the stamps cost it nothing.
//
// Sofia-free; SIP thread.
#pragma once

#include <chrono>
#include <vector>

namespace sipgw::gateway {

class ReceiveQueueProbe {
 public:
  // Stamps datagrams arriving from now on at these UDP sockets (those that
  // refuse are left out).
  void watch(const std::vector<int>& udp_sockets);
  // The longest wait of any watched socket's oldest datagram (0: nothing waiting).
  std::chrono::microseconds oldest_wait() const;
  std::size_t watched() const { return sockets_.size(); }

 private:
  std::vector<int> sockets_;
};

}  // namespace sipgw::gateway
