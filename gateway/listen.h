// --listen udp:ADDR:PORT / tcp:ADDR:PORT flags turned into Sofia bind URLs.
// One listen address (IPv4, [IPv6] or *, with a port) becomes one nua stack
// on the SIP thread, bound with one URL per transport: Debian's Sofia
// 1.12.11 keeps a dangling pointer to stack memory when a bind URL carries a
// transport list (";transport=udp,tcp") and crashes at start depending on
// the environment's size (see ../shared/sofia-notes.md). A plan never holds
// such a URL.
#pragma once

#include <expected>
#include <string>
#include <vector>

namespace sipgw::gateway {

struct ListenAddress {
  // At most two, each with exactly one transport, e.g.
  // "sip:127.0.0.1:5060;transport=udp" and "sip:127.0.0.1:5060;transport=tcp".
  std::vector<std::string> bind_urls;
  bool ipv6 = false;      // bound to an IPv6 address
  bool wildcard = false;  // bound to * (every local address)
  // What the buyer leg's From says as host (host or host:port): the public
  // address when one is given, else the bound address and port. Empty for
  // a wildcard without a public address: "*" is no host, so the SIP layer
  // puts the primary local address there (the one Sofia's Via names).
  std::string from_host;
  std::string port;
};

struct ListenPlan {
  std::vector<ListenAddress> addresses;  // in the order first given
};

// public_address (host, optionally :port): what peers are told (Via,
// Contact, From) instead of the bound address, e.g. behind a 1:1 NAT. Sofia
// binds the listen address given as maddr and advertises the public host.
// No flags: udp and tcp on 127.0.0.1:5060.
std::expected<ListenPlan, std::string> plan_listen(const std::vector<std::string>& flags,
                                                   const std::string& public_address = "");

}  // namespace sipgw::gateway
