#include "gateway/listen.h"

#include "auth/cidr.h"

#include <charconv>
#include <map>

namespace sipgw::gateway {

std::expected<ListenPlan, std::string> plan_listen(const std::vector<std::string>& flags, const std::string& public_address) {
  // (host, port) -> transports, in first-seen order.
  std::vector<std::pair<std::string, std::string>> order;
  std::map<std::pair<std::string, std::string>, std::string> transports;
  for (const auto& flag : flags) {
    auto colon = flag.find(':');
    auto last = flag.rfind(':');
    if (colon == std::string::npos || last == colon) return std::unexpected("--listen " + flag + ": expected udp:ADDR:PORT or tcp:ADDR:PORT");
    std::string transport = flag.substr(0, colon);
    std::string host = flag.substr(colon + 1, last - colon - 1);
    std::string port = flag.substr(last + 1);
    if (transport != "udp" && transport != "tcp") return std::unexpected("--listen " + flag + ": transport must be udp or tcp");
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    // "*": every local address of both families (Sofia binds one socket per family).
    auto ip = host == "*" ? std::expected<auth::IpAddress, std::string>(auth::IpAddress{}) : auth::parse_ip(host);
    if (!ip) return std::unexpected("--listen " + flag + ": " + ip.error());
    int port_number = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), port_number);
    if (ec != std::errc{} || end != port.data() + port.size() || port_number <= 0 || port_number > 65535) {
      return std::unexpected("--listen " + flag + ": invalid port");
    }
    std::string url_host = ip->family == auth::IpFamily::v6 && host != "*" ? "[" + host + "]" : host;
    auto key = std::pair{url_host, port};
    if (!transports.count(key)) order.push_back(key);
    auto& t = transports[key];
    if (t.find(transport) == std::string::npos) t += t.empty() ? transport : "," + transport;
  }
  if (order.empty()) order.push_back({"127.0.0.1", "5060"}), transports[order[0]] = "udp,tcp";
  if (order.size() > 8) return std::unexpected("at most 8 listen addresses");
  ListenPlan plan;
  for (auto& key : order) {
    if (public_address.empty()) {
      plan.bind_urls.push_back("sip:" + key.first + ":" + key.second + ";transport=" + transports[key]);
    } else {
      std::string bind = key.first == "*" ? "0.0.0.0" : key.first;
      if (bind.front() == '[') bind = bind.substr(1, bind.size() - 2);
      std::string advertised = public_address.find(':') != std::string::npos && public_address.front() != '['
                                   ? public_address  // host:port given
                                   : public_address + ":" + key.second;
      plan.bind_urls.push_back("sip:" + advertised + ";maddr=" + bind + ";transport=" + transports[key]);
    }
  }
  plan.first_host = order[0].first + ":" + order[0].second;
  return plan;
}

}  // namespace sipgw::gateway
