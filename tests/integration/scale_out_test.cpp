// Kamailio (Debian package) load-balancing over two sipgw instances with the
// project's deploy/kamailio/kamailio.cfg: calls spread over both, the
// publisher's address survives the hop, and when one gateway dies new calls
// go through the other.
#include "harness.h"

#include <arpa/inet.h>
#include <cerrno>

namespace sipgw::integration {
namespace {

constexpr const char* kFrontEnd = "127.0.0.3";  // Kamailio's address
constexpr const char* kPublisher = "127.0.0.2";

// Kamailio is ready once it holds its UDP port.
bool udp_port_taken(const char* ip, int port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, ip, &a.sin_addr);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  bool taken = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno == EADDRINUSE;
  close(fd);
  return taken;
}

class ScaleOut : public GatewayTest {
 protected:
  void provision(db::Connection& c, std::int64_t ring_timeout = 30) {
    db::Admin a(c);
    ok(a.add_domain("ip.test", "ip", std::nullopt, std::nullopt));
    ok(a.add_domain("digest.test", "digest", std::nullopt, std::nullopt));
    ok(a.add_publisher("pub1", "", std::nullopt));
    ok(a.add_credential("alice", "pub1", std::string("digest.test"), "alice-secret"));
    ASSERT_TRUE(a.add_allowlist(kPublisher, "pub1", "the publisher, seen through Kamailio"));
    ok(a.add_campaign("camp1", "", ring_timeout));
    ok(a.add_number("+18882223333", "camp1", std::nullopt));
    db::BuyerChanges b;
    b.target = "sip:agentqueue@127.0.0.1:" + std::to_string(buyer_port_);
    b.headers = std::vector<std::string>{"X-Campaign-ID: [campaign_id]"};
    ok(a.add_buyer("buyer1", b));
    ok(a.add_route("camp1", "buyer1", 0, 1));
    ok(a.set_setting("front_end.addresses", kFrontEnd));
  }

  // Two provisioned gateways (the test's own and a second one on db2_,
  // second_gateway_ on port2_) and Kamailio in front of both.
  void start_front_end_and_two_gateways(std::int64_t ring_timeout = 30) {
    provision(db_, ring_timeout);
    {
      auto c = db::Connection::open(db2_, db::Connection::Mode::read_write_create);
      ASSERT_TRUE(c && db::migrate(*c));
      provision(*c, ring_timeout);
    }
    start_gateway({}, "127.0.0.1");
    port2_ = free_port();
    second_gateway_ = start_second_gateway(db2_, port2_, dir_.file("sipgw2.log"));
    logs_.emplace_back("sipgw2", dir_.file("sipgw2.log"));
    kamailio_ = start_kamailio({sip_port_, port2_});
    ASSERT_TRUE(kamailio_.running());
  }

  Process start_second_gateway(const std::string& db_path, int port, const std::string& log) {
    Process p({SIPGW_PATH, "--db", db_path, "--listen", "udp:127.0.0.1:" + std::to_string(port), "--poll-interval-ms", "100"},
              log);
    EXPECT_TRUE(eventually([&] { return slurp(log).find("listening on") != std::string::npos; }));
    return p;
  }

  std::size_t cdr_count(const std::string& db_path) {
    auto c = db::Connection::open(db_path, db::Connection::Mode::read_only);
    return c ? static_cast<std::size_t>(c->query_int("SELECT count(*) FROM calls WHERE final_status = 200").value_or(0)) : 0;
  }

  // Kamailio with the project's config in front of the gateways on these
  // ports; kamailio_port_ is where publishers send.
  Process start_kamailio(const std::vector<int>& gateway_ports) {
    kamailio_port_ = free_port();
    std::string lines;
    for (int port : gateway_ports) lines += "1 sip:127.0.0.1:" + std::to_string(port) + "\n";
    const auto list = write_scenario("dispatcher.list", lines);
    std::filesystem::create_directories(dir_.file("kamailio-run"));
    Process kamailio({"kamailio", "-DD", "-E", "-f", std::string(DEPLOY_DIR) + "/kamailio/kamailio.cfg", "-Y",
                      dir_.file("kamailio-run"), "-m", "64", "-M", "8", "-A",
                      "LISTEN=udp:" + std::string(kFrontEnd) + ":" + std::to_string(kamailio_port_), "-A",
                      "DISPATCHER_LIST=\"" + list + "\"", "-A", "DS_PING_INTERVAL=1"},
                     dir_.file("kamailio.log"));
    logs_.emplace_back("kamailio", dir_.file("kamailio.log"));
    EXPECT_TRUE(eventually([&] { return !kamailio.running() || udp_port_taken(kFrontEnd, kamailio_port_); }));
    EXPECT_TRUE(kamailio.running()) << slurp(dir_.file("kamailio.log"));
    return kamailio;
  }

  Process place_through_kamailio(int calls, int kamailio_port, const PublisherPlan& plan = {}) {
    auto file = write_scenario("publisher-lb-" + std::to_string(++scenarios_) + ".xml", publisher_xml(plan));
    std::vector<std::string> args = {std::string(kFrontEnd) + ":" + std::to_string(kamailio_port), "-sf", file, "-p",
                                     std::to_string(free_port()), "-m", std::to_string(calls), "-l", "1", "-r", "5",
                                     "-d", "20"};
    if (plan.digest_password) args.insert(args.end(), {"-auth_uri", plan.number + "@" + plan.domain});
    return sipp("publisher-lb-" + std::to_string(scenarios_), args, kPublisher);
  }
  int kamailio_port_ = 0;
  const std::string db2_ = dir_.file("gw2.db");
  int port2_ = 0;
  Process second_gateway_;
  Process kamailio_;
};

TEST_F(ScaleOut, KamailioSpreadsCallsAndFailsOverWhenAGatewayDies) {
  if (std::system("command -v kamailio > /dev/null") != 0) GTEST_SKIP() << "kamailio is not installed";
  start_front_end_and_two_gateways();
  const std::string& db2 = db2_;
  const int kamailio_port = kamailio_port_;

  // Four calls, one after another: round-robin gives each gateway two.
  {
    auto b = answering_buyer({"pub1", std::nullopt, "camp1"}, 0, {"-m", "4"});
    auto p = place_through_kamailio(4, kamailio_port);
    EXPECT_EQ(p.wait(), 0);
    EXPECT_EQ(b.wait(), 0);
  }
  ASSERT_TRUE(eventually([&] { return cdr_count(db_path_) + cdr_count(db2) == 4; }));
  EXPECT_EQ(cdr_count(db_path_), 2u);
  EXPECT_EQ(cdr_count(db2), 2u);
  // sipgw judged the publisher by the address Kamailio named, not Kamailio's.
  EXPECT_NE(gateway_.log().find("from publisher pub1 (127.0.0.2)"), std::string::npos);

  // One gateway dies; after a probe interval every new call goes through the other.
  gateway_.kill_now();
  std::this_thread::sleep_for(3s);  // lets the 1 s OPTIONS probe notice; asserts nothing about time
  {
    auto b = answering_buyer({"pub1", std::nullopt, "camp1"}, 0, {"-m", "4"});
    auto p = place_through_kamailio(4, kamailio_port);
    EXPECT_EQ(p.wait(), 0);
    EXPECT_EQ(b.wait(), 0);
  }
  ASSERT_TRUE(eventually([&] { return cdr_count(db2) == 6; }));
  EXPECT_EQ(cdr_count(db_path_), 2u);
}

// Digest behind a round-robin front end: the challenged INVITE goes to one
// gateway and its authenticated retry (a new transaction) to the other.
// With the deployment's nonce secret provisioned on both, every retry is
// accepted wherever it lands; with a secret per gateway it got a fresh 407.
TEST_F(ScaleOut, DigestCallsAuthenticateWhicheverGatewayTheRetryLandsOn) {
  if (std::system("command -v kamailio > /dev/null") != 0) GTEST_SKIP() << "kamailio is not installed";
  const std::string secret = "5f2b9c0e7a31d84460be1c9a2f7d3e58a0c4b6d8e1f203948576a8b9c0d1e2f3";
  for (const std::string& path : {db_path_, db2_}) {
    auto c = db::Connection::open(path, db::Connection::Mode::read_write_create);
    ASSERT_TRUE(c && db::migrate(*c));
    ok(db::Admin(*c).set_nonce_secret(secret, 0));
  }
  start_front_end_and_two_gateways();
  PublisherPlan plan;
  plan.domain = "digest.test";
  plan.digest_password = "alice-secret";
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"}, 0, {"-m", "4"});
  auto p = place_through_kamailio(4, kamailio_port_, plan);
  EXPECT_EQ(p.wait(), 0) << "publisher: a retry was challenged again";
  EXPECT_EQ(b.wait(), 0);
  ASSERT_TRUE(eventually([&] { return cdr_count(db_path_) + cdr_count(db2_) == 4; }));
  for (const std::string& log : {gateway_.log(), slurp(dir_.file("sipgw2.log"))}) {
    EXPECT_NE(log.find("the deployment's shared secret"), std::string::npos);
    EXPECT_EQ(log.find(secret.substr(0, 16)), std::string::npos);  // never logged
  }
}

// The front end fails a call over only when its gateway never answered: a
// buyer ringing for 70 s (longer than tm's old 60 s fr_inv_timer) is rung
// once, through one gateway, and answers; no second gateway sees the call.
TEST_F(ScaleOut, ACallRingingSeventySecondsThroughTheFrontIsNeverRunTwice) {
  if (std::system("command -v kamailio > /dev/null") != 0) GTEST_SKIP() << "kamailio is not installed";
  start_front_end_and_two_gateways(90);
  const std::string& db2 = db2_;

  auto b = buyer("buyer_rings_long.xml", {"-timeout", "120"});  // a second INVITE would fail it
  auto file = write_scenario("publisher-ringing.xml", publisher_xml({}));
  auto p = sipp("publisher-ringing", {std::string(kFrontEnd) + ":" + std::to_string(kamailio_port_), "-sf", file, "-p",
                                      std::to_string(free_port()), "-m", "1", "-timeout", "120"},
                kPublisher);
  EXPECT_EQ(p.wait(120s), 0) << "publisher";
  EXPECT_EQ(b.wait(30s), 0) << "buyer";
  EXPECT_TRUE(eventually([&] { return cdr_count(db_path_) + cdr_count(db2) == 1; }));
  auto all_calls = [](const std::string& path) {
    auto c = db::Connection::open(path, db::Connection::Mode::read_only);
    return c ? c->query_int("SELECT count(*) FROM calls").value_or(-1) : -1;
  };
  EXPECT_EQ(all_calls(db_path_) + all_calls(db2), 1);  // no re-run call anywhere
}

TEST_F(ScaleOut, AForgedSourceHeaderFromAnyoneButTheFrontEndIsIgnored) {
  provision(db_);
  start_gateway();
  // 127.0.0.4 is neither allowlisted nor a front end; it claims to be the publisher.
  PublisherPlan forged;
  forged.expect = 403;
  forged.extra_headers = std::string("X-Sipgw-Source-IP: ") + kPublisher + "\n";
  auto p = place(forged, {}, "127.0.0.4");
  EXPECT_EQ(p.wait(), 0);
  EXPECT_NE(gateway_.log().find("from 127.0.0.4 rejected 403"), std::string::npos);
}

}  // namespace
}  // namespace sipgw::integration
