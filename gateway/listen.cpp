#include "gateway/listen.h"

#include "auth/cidr.h"

#include <algorithm>
#include <charconv>

namespace sipgw::gateway {

namespace {

struct Flag {
  std::string transport;  // "udp" or "tcp"
  std::string url_host;   // as in a URL: 127.0.0.1, [::1] or *
  std::string port;
  bool ipv6 = false;
};

std::expected<Flag, std::string> parse_flag(const std::string& flag) {
  auto colon = flag.find(':');
  auto last = flag.rfind(':');
  if (colon == std::string::npos || last == colon) return std::unexpected("--listen " + flag + ": expected udp:ADDR:PORT or tcp:ADDR:PORT");
  Flag f;
  f.transport = flag.substr(0, colon);
  std::string host = flag.substr(colon + 1, last - colon - 1);
  f.port = flag.substr(last + 1);
  if (f.transport != "udp" && f.transport != "tcp") return std::unexpected("--listen " + flag + ": transport must be udp or tcp");
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  // "*": every local address of both families (Sofia binds one socket per family).
  if (host != "*") {
    auto ip = auth::parse_ip(host);
    if (!ip) return std::unexpected("--listen " + flag + ": " + ip.error());
    f.ipv6 = ip->family == auth::IpFamily::v6;
  }
  int port_number = 0;
  auto [end, ec] = std::from_chars(f.port.data(), f.port.data() + f.port.size(), port_number);
  if (ec != std::errc{} || end != f.port.data() + f.port.size() || port_number <= 0 || port_number > 65535) {
    return std::unexpected("--listen " + flag + ": invalid port");
  }
  f.url_host = f.ipv6 ? "[" + host + "]" : host;
  return f;
}

// The URL Sofia binds for one transport of an address.
std::string bind_url(const Flag& f, const std::string& transport, const std::string& public_address) {
  if (public_address.empty()) return "sip:" + f.url_host + ":" + f.port + ";transport=" + transport;
  std::string bind = f.url_host == "*" ? "0.0.0.0" : f.url_host;
  if (bind.front() == '[') bind = bind.substr(1, bind.size() - 2);
  const bool has_port = public_address.find(':') != std::string::npos && public_address.front() != '[';
  std::string advertised = has_port ? public_address : public_address + ":" + f.port;
  return "sip:" + advertised + ";maddr=" + bind + ";transport=" + transport;
}

}  // namespace

std::expected<ListenPlan, std::string> plan_listen(const std::vector<std::string>& flags, const std::string& public_address) {
  std::vector<Flag> parsed;
  for (const auto& flag : flags) {
    auto f = parse_flag(flag);
    if (!f) return std::unexpected(f.error());
    parsed.push_back(std::move(*f));
  }
  if (parsed.empty()) {
    parsed.push_back({"udp", "127.0.0.1", "5060", false});
    parsed.push_back({"tcp", "127.0.0.1", "5060", false});
  }
  ListenPlan plan;
  // Group the flags by (host, port).
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& f : parsed) {
    std::size_t i = 0;
    while (i < keys.size() && keys[i] != std::pair{f.url_host, f.port}) ++i;
    if (i == keys.size()) {
      keys.emplace_back(f.url_host, f.port);
      ListenAddress address;
      address.ipv6 = f.ipv6;
      address.wildcard = f.url_host == "*";
      address.port = f.port;
      if (!public_address.empty()) {
        address.from_host = public_address;
      } else if (!address.wildcard) {
        address.from_host = f.url_host + ":" + f.port;
      }
      plan.addresses.push_back(std::move(address));
    }
    auto& urls = plan.addresses[i].bind_urls;
    auto url = bind_url(f, f.transport, public_address);
    if (std::find(urls.begin(), urls.end(), url) == urls.end()) urls.push_back(std::move(url));
  }
  if (plan.addresses.size() > 8) return std::unexpected("at most 8 listen addresses");
  return plan;
}

}  // namespace sipgw::gateway
