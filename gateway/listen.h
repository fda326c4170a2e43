// --listen udp:ADDR:PORT / tcp:ADDR:PORT flags turned into Sofia bind URLs:
// one per address and port (IPv4, [IPv6] or *), with the transports it was
// given. The SIP layer runs one nua stack per URL.
#pragma once

#include <expected>
#include <string>
#include <vector>

namespace sipgw::gateway {

struct ListenPlan {
  std::vector<std::string> bind_urls;  // e.g. "sip:127.0.0.1:5060;transport=udp,tcp"
  std::string first_host;              // for From/Contact when no public address is given
};

// public_address (host, optionally :port): what peers are told (Via,
// Contact) instead of the bound address, e.g. behind a 1:1 NAT. Sofia binds
// the listen address given as maddr and advertises the public host.
std::expected<ListenPlan, std::string> plan_listen(const std::vector<std::string>& flags,
                                                   const std::string& public_address = "");

}  // namespace sipgw::gateway
