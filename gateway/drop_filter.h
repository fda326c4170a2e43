// Sources whose packets the kernel throws away at sipgw's SIP sockets, so a
// banned or flooding source costs neither Sofia nor sipgw anything: no
// parse, no transaction, no answer. A classic BPF socket filter
// (SO_ATTACH_FILTER, no privilege needed) compares the packet's IP source
// with the list; TCP connections accepted later inherit the listener's
// filter.
//
// Why in the kernel: nua gives sipgw a request only once nta has made a
// server transaction for it, and nua's agent offers no hook before that
// (see the issue 11 note), so sipgw itself cannot refuse without state.
//
// Sofia-free; runs on the SIP thread.
#pragma once

#include "auth/cidr.h"

#include <chrono>
#include <cstdint>
#include <expected>
#include <string>
#include <vector>

namespace sipgw::gateway {

// One classic BPF instruction, laid out as struct sock_filter.
struct FilterInstruction {
  std::uint16_t code;
  std::uint8_t jt;
  std::uint8_t jf;
  std::uint32_t k;
};

// A program per address family: it drops what matches a listed prefix of
// that family and passes everything else.
struct DropProgram {
  std::vector<FilterInstruction> v4;
  std::vector<FilterInstruction> v6;
  std::size_t left_out = 0;  // prefixes beyond the kernel's program size (sipgw still refuses them itself)
};

// BPF_MAXINSNS is 4096: about 1,000 IPv4 prefixes.
DropProgram compile_drop_program(const std::vector<auth::Cidr>& sources, std::size_t max_instructions = 4096);

// Overload (gateway/overload.h): a UDP socket's program that also drops
// `fraction` (0..1) of the datagrams that open with a new call's INVITE -
// "INVITE sip:+" or "INVITE sip:%2B", the only Request-URIs admission takes
// (an in-dialog request names sipgw's Contact, which has no user part) -
// chosen by the kernel's random number. program: compile_drop_program's.
std::vector<FilterInstruction> with_invite_drops(std::vector<FilterInstruction> program, double fraction);
constexpr std::size_t kInviteDropInstructions = 15;

// Accepted TCP connections on the SIP ports from one peer address.
struct ConnectionCount {
  auth::IpAddress source;
  std::size_t connections = 0;
};

struct TcpCensus {
  std::vector<ConnectionCount> by_source;
  std::size_t idle_shut = 0;
};

class DropFilter {
 public:
  // The SIP listen ports: every socket of this process whose local port is
  // one of them (UDP, TCP listeners and accepted connections) is filtered.
  explicit DropFilter(std::vector<std::uint16_t> ports) : ports_(std::move(ports)) {}

  // Installs the list on every such socket; the number of sockets, or why
  // it could not. An unchanged list is not installed again.
  std::expected<std::size_t, std::string> install(std::vector<auth::Cidr> sources);
  const std::vector<auth::Cidr>& installed() const { return installed_; }
  // Overload: the share of new calls' INVITEs the SIP UDP sockets drop
  // from now on (0: none), with the list above. An unchanged share is not
  // installed again.
  std::expected<void, std::string> drop_new_invites(double fraction);
  double invite_drops() const { return invite_drops_; }
  // Packets the kernel dropped at the SIP UDP sockets and TCP listeners
  // found so far (SO_MEMINFO): banned sources, and datagrams that found the
  // receive buffer full.
  std::uint64_t dropped() const;

  // One walk over the accepted TCP connections on the SIP ports (Sofia
  // keeps no count and has no cap, so sipgw counts the descriptors): shuts
  // down those nothing crossed either way for `idle` (TCP_INFO; Sofia closes
  // idle connections itself only once it armed a timer for them, and it arms
  // none for a connection that never sent a byte), and counts them all by
  // peer (those just shut included: their descriptors are still held).
  TcpCensus police_connections(std::chrono::milliseconds idle) const;
  // Shuts down every accepted connection from these sources: Sofia sees the
  // end, closes the descriptor and frees the transport itself (closing it
  // here would pull it from under Sofia). How many.
  std::size_t shut_down_connections(const std::vector<auth::IpAddress>& sources) const;
  // The smallest receive buffer of the SIP UDP sockets in bytes (0: none):
  // what the kernel granted of what Sofia asked (net.core.rmem_max caps it).
  std::size_t udp_receive_buffer() const;
  // The SIP UDP sockets' descriptors (gateway/receive_queue.h watches them).
  std::vector<int> udp_sockets() const;
  std::size_t left_out() const { return left_out_; }

 private:
  std::vector<std::uint16_t> ports_;
  std::vector<auth::Cidr> installed_;
  bool ever_installed_ = false;
  std::size_t left_out_ = 0;
  std::vector<int> counted_;  // UDP sockets and TCP listeners: they live as long as the stack
  double invite_drops_ = 0;
  DropProgram program_;           // the list's, as last installed
  struct UdpSocket {
    int fd;
    bool v6;
  };
  std::vector<UdpSocket> udp_;    // found by the last install: a share changes without a walk over every descriptor
  std::expected<std::size_t, std::string> attach_everywhere();
};

}  // namespace sipgw::gateway
