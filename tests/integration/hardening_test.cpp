// A fresh machine and a hostile network: the daemon starts whatever the
// environment's size, serves exactly its Allow list and keeps nothing for
// the requests it refuses; outbound credentials of any printable character
// authenticate; a wildcard listen never names "*" toward a buyer.
#include "harness.h"
#include "sip_probe.h"

#include <regex>

namespace sipgw::integration {
namespace {

using namespace std::chrono_literals;

constexpr const char* kAllow = "INVITE, ACK, BYE, CANCEL, OPTIONS, PRACK, INFO, UPDATE";

class Hardening : public GatewayTest {
 protected:
  // Starts sipgw with `args` once per environment size, 0 to 4 KB of padding
  // in one extra variable: Sofia's start-up once read stack memory whose
  // content depended on it. Every start must answer OPTIONS on every
  // transport it was given, then stop cleanly.
  void start_under_many_environments(const std::vector<std::string>& args, const std::vector<SipEndpoint>& probes) {
    constexpr int kStarts = 20;
    for (int i = 0; i < kStarts; ++i) {
      const std::size_t pad = static_cast<std::size_t>(i) * 4096 / (kStarts - 1);
      std::vector<std::string> argv = {SIPGW_PATH, "--db", db_path_, "--log-level", "warn"};
      argv.insert(argv.end(), args.begin(), args.end());
      Process gateway(argv, dir_.file("start.log"), {"SIPGW_TEST_PAD=" + std::string(pad, 'x')});
      for (const auto& endpoint : probes) {
        auto reply = options_reply(endpoint, 10s, [&] { return gateway.running(); });
        ASSERT_TRUE(gateway.running()) << "start " << i << " (pad " << pad << " bytes) died: " << gateway.ending() << "\n"
                                       << gateway.log();
        ASSERT_TRUE(reply) << "start " << i << ": no answer to OPTIONS over " << (endpoint.tcp ? "TCP" : "UDP") << " at "
                           << endpoint.uri_host();
        EXPECT_EQ(status_of(*reply), 200) << *reply;
      }
      gateway.signal(SIGTERM);
      EXPECT_EQ(gateway.wait(10s), 0) << "start " << i << ":\n" << gateway.log();
    }
  }

  std::vector<std::string> listen(const std::string& host) {
    const std::string port = std::to_string(sip_port_);
    return {"--listen", "udp:" + host + ":" + port, "--listen", "tcp:" + host + ":" + port};
  }
  std::vector<SipEndpoint> both_transports(const std::string& host) {
    return {{host, sip_port_, false}, {host, sip_port_, true}};
  }
};

TEST_F(Hardening, UdpAndTcpOnOneAddressStartUnderEveryEnvironmentSize) {
  provision_basic();  // with a buyer, as the demo database has
  start_under_many_environments(listen("127.0.0.1"), both_transports("127.0.0.1"));
}

TEST_F(Hardening, WildcardListenStartsUnderEveryEnvironmentSize) {
  provision_basic();
  start_under_many_environments(listen("*"), both_transports("127.0.0.1"));
}

TEST_F(Hardening, Ipv6ListenStartsUnderEveryEnvironmentSize) {
  provision_basic();
  start_under_many_environments(listen("[::1]"), both_transports("::1"));
}

TEST_F(Hardening, PublicAddressListenStartsUnderEveryEnvironmentSize) {
  provision_basic();
  auto args = listen("127.0.0.1");
  args.insert(args.end(), {"--public-address", "203.0.113.7"});
  start_under_many_environments(args, both_transports("127.0.0.1"));
}

TEST_F(Hardening, OnlyTheAllowListIsServedAndNoNotifyEverLeaves) {
  provision_basic();
  start_gateway();
  SipEndpoint gateway{"127.0.0.1", sip_port_, false};
  for (const std::string method : {"MESSAGE", "REFER", "SUBSCRIBE", "PUBLISH", "NOTIFY"}) {
    for (const std::string to_tag : {"", "in-dialog-looking"}) {
      SipProbe probe(gateway);
      auto reply = probe.final_response(
          sip_request(method, gateway, probe.local_port(), to_tag,
                      "Refer-To: <sip:victim@127.0.0.1:9>\r\nEvent: presence\r\n"), 3s);
      ASSERT_TRUE(reply) << method;
      EXPECT_EQ(status_of(*reply), 405) << method << to_tag << "\n" << *reply;
      EXPECT_EQ(header_of(*reply, "Allow"), kAllow) << method;
      // A 202 to a REFER used to be followed by NOTIFYs to the Contact the
      // sender wrote: nothing more may arrive.
      if (method == "REFER") {
        EXPECT_FALSE(probe.receive(2s)) << "something followed the 405 to " << method;
      }
    }
  }
  SipProbe probe(gateway);
  auto options = probe.final_response(sip_request("OPTIONS", gateway, probe.local_port()), 3s);
  ASSERT_TRUE(options);
  EXPECT_EQ(status_of(*options), 200);
  EXPECT_EQ(header_of(*options, "Allow"), kAllow);
}

// A scanner learns no product or version: no User-Agent or Server header on
// any answer (a 200, a 405, a refusal) unless sip.user_agent names one, and
// an unknown domain is refused like an unknown source.
TEST_F(Hardening, NothingSaysWhatRunsHereOrWhichDomainsExist) {
  provision_basic();
  start_with_metrics();
  SipEndpoint gateway{"127.0.0.1", sip_port_, false};
  auto ask = [&](const std::string& method, const std::string& domain, const std::string& extra = "") {
    SipProbe probe(gateway);
    std::string request = sip_request(method, gateway, probe.local_port(), "", extra);
    if (domain != "127.0.0.1") {  // name the domain in the Request-URI and To
      for (std::size_t at; (at = request.find("127.0.0.1:" + std::to_string(sip_port_))) != std::string::npos;) {
        request.replace(at, 10 + std::to_string(sip_port_).size(), domain);
      }
    }
    auto reply = probe.final_response(request, 3s);
    EXPECT_TRUE(reply) << method << " " << domain;
    return reply.value_or("");
  };
  for (const auto& reply : {ask("OPTIONS", "127.0.0.1"), ask("MESSAGE", "127.0.0.1"), ask("OPTIONS", "nowhere.test"),
                            ask("INVITE", "nowhere.test")}) {
    EXPECT_FALSE(header_of(reply, "User-Agent")) << reply;
    EXPECT_FALSE(header_of(reply, "Server")) << reply;
    EXPECT_EQ(reply.find("sofia"), std::string::npos) << reply;
  }
  EXPECT_EQ(ask("INVITE", "nowhere.test").substr(0, 22), "SIP/2.0 403 Forbidden\r");
  EXPECT_EQ(ask("OPTIONS", "nowhere.test").substr(0, 22), "SIP/2.0 403 Forbidden\r");

  ASSERT_EQ(ctl({"setting", "set", "sip.user_agent", "Acme Edge"}), 0);
  EXPECT_TRUE(eventually([&] { return has_line(scrape(), "sipgw_provisioning_reloads_total 1"); }));
  EXPECT_EQ(header_of(ask("OPTIONS", "127.0.0.1"), "User-Agent"), "Acme Edge");
}

long rss_kb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

TEST_F(Hardening, RefusedRequestsKeepNothing) {
  provision_basic();
  launch_gateway({SIPGW_PATH, "--db", db_path_, "--listen", "tcp:127.0.0.1:" + std::to_string(sip_port_), "--log-level", "warn"},
                 SipEndpoint{"127.0.0.1", sip_port_, true});
  // Over TCP: Sofia frees a reliable transport's finished transaction at
  // once, so whatever stays is what sipgw or nua kept (over UDP the 405s are
  // held 32 s by RFC 3261 Timer J and would hide a leak).
  SipEndpoint gateway{"127.0.0.1", sip_port_, true};
  SipProbe probe(gateway);
  ASSERT_TRUE(probe.connected());
  const std::vector<std::string> methods = {"MESSAGE", "REFER", "SUBSCRIBE", "PUBLISH"};
  auto send_batch = [&](int count) {
    for (int i = 0; i < count; ++i) {
      auto reply = probe.final_response(sip_request(methods[i % methods.size()], gateway, probe.local_port(), "",
                                                    "Refer-To: <sip:victim@127.0.0.1:9>\r\nEvent: presence\r\n"), 3s);
      ASSERT_TRUE(reply) << "request " << i;
      ASSERT_EQ(status_of(*reply), 405) << *reply;
    }
  };
  send_batch(1000);  // warm-up: pools, the connection, the log queue
  const long warm = rss_kb(gateway_.pid());
  send_batch(10000);
  const long after = rss_kb(gateway_.pid());
  std::cout << "RSS after 1,000 refusals " << warm << " KB, after 10,000 more " << after << " KB\n";
  // A leaked handle per MESSAGE (1.6 KB) alone would add 4 MB here.
  EXPECT_LT(after - warm, 1024) << "RSS grew " << (after - warm) << " KB over 10,000 refused requests";
}

TEST_F(Hardening, BuyersInDialogReferIsRefusedAndTheCallGoesOn) {
  provision_basic();
  start_gateway();
  auto b = buyer("buyer_refers.xml");
  expect_calls({&b}, PublisherPlan{}, {"-d", "500"});
  auto rows = calls(1);
  EXPECT_EQ(rows[0]["final_status"], 200);
  EXPECT_EQ(rows[0]["hangup_side"], "publisher");
}

// sipgw computes the digest itself: colons and spaces in the buyer's and the
// trunk's credentials reach the buyer's verifyauth whole.
TEST_F(Hardening, OutboundCredentialsWithColonsAuthenticateToABuyer) {
  provision_basic();
  set_buyer_credentials("gw:user", "p:a ss;w@rd,x=1:");
  start_gateway();
  auto b = buyer("buyer_challenges.xml", {"-key", "auth_user", "gw:user", "-key", "auth_password", "p:a ss;w@rd,x=1:"});
  expect_calls({&b}, PublisherPlan{}, {"-d", "50"});
  EXPECT_NE(slurp(dir_.file("buyer_messages.log")).find("username=\"gw:user\""), std::string::npos);
  EXPECT_EQ(gateway_.log().find("p:a ss"), std::string::npos);
  EXPECT_EQ(calls(1)[0]["final_status"], 200);
}

TEST_F(Hardening, OutboundCredentialsWithColonsAuthenticateToTheTrunk) {
  provision_basic();
  ok(admin().set_trunk({"sip:127.0.0.1:" + std::to_string(buyer_port_), std::string("trunk:user"),
                        std::string(":trunk pass:"), std::string("gw.trunk.test")}));
  db::BuyerChanges pstn;
  pstn.target = "+18885551234";
  ok(admin().add_buyer("pstn", pstn));
  ok(admin().remove_route("camp1", "buyer1"));
  ok(admin().add_route("camp1", "pstn", 0, 1));
  start_gateway();
  auto carrier = buyer("carrier.xml", {"-key", "auth_user", "trunk:user", "-key", "auth_password", ":trunk pass:"});
  expect_calls({&carrier}, PublisherPlan{}, {"-d", "50"});
  EXPECT_EQ(calls(1)[0]["final_status"], 200);
}

// With --listen on * and no --public-address, From toward the buyer names a
// real address of this machine, never "*".
TEST_F(Hardening, WildcardListenNamesARealHostInFrom) {
  provision_basic();
  launch_gateway({SIPGW_PATH, "--db", db_path_, "--listen", "udp:*:" + std::to_string(sip_port_), "--listen",
                  "tcp:*:" + std::to_string(sip_port_), "--log-level", "debug"});
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"});
  expect_calls({&b}, PublisherPlan{}, {"-d", "50"});
  auto messages = slurp(dir_.file("buyer_messages.log"));
  std::smatch from;
  ASSERT_TRUE(std::regex_search(messages, from, std::regex("\nFrom: *<sip:[^@]*@([^>;]*)>"))) << messages;
  const std::string host = from[1];
  EXPECT_TRUE(std::regex_match(host, std::regex("([0-9]{1,3}\\.){3}[0-9]{1,3}:" + std::to_string(sip_port_)))) << host;
  EXPECT_EQ(host.find('*'), std::string::npos);
}

}  // namespace
}  // namespace sipgw::integration
