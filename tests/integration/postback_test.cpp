// Call events and postbacks with the real daemon, SIPp peers and a real HTTP
// receiver (tests/integration/http_receiver.py, Python's http.server on
// loopback): what arrives, in what order, with which tokens; what happens
// while the receiver is down or failing; the call outcome API.
#include "harness.h"

#include <fstream>
#include <set>

namespace sipgw::integration {
namespace {

class Postbacks : public GatewayTest {
 protected:
  void TearDown() override {
    if (receiver_.running()) receiver_.kill_now();
    GatewayTest::TearDown();
  }

  void start_receiver(int status = 200, std::vector<std::string> tls = {}) {
    std::vector<std::string> argv = {"python3", std::string(SCENARIO_DIR) + "/../http_receiver.py",
                                     std::to_string(receiver_port_), dir_.file("received.jsonl"), std::to_string(status)};
    argv.insert(argv.end(), tls.begin(), tls.end());
    receiver_ = Process(argv, dir_.file("receiver.log"));
    if (!tls.empty()) {
      ASSERT_TRUE(eventually([&] { return port_open(receiver_port_); })) << receiver_.log();
      return;
    }
    ASSERT_TRUE(eventually([&] { return http_get(receiver_port_, "/ready").status == status; }))
        << "the receiver did not start: " << receiver_.log();
  }
  static bool port_open(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool open = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    return open;
  }
  // Requests the receiver logged, the readiness probes left out.
  std::vector<nlohmann::json> received() {
    std::vector<nlohmann::json> out;
    std::ifstream in(dir_.file("received.jsonl"));
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j["path"] != "/ready") out.push_back(j);
    }
    return out;
  }
  std::vector<nlohmann::json> wait_for_requests(std::size_t n, std::chrono::milliseconds limit = 20s) {
    std::vector<nlohmann::json> got;
    eventually([&] { return (got = received()).size() >= n; }, limit);
    return got;
  }
  std::string url(const std::string& path) { return "http://127.0.0.1:" + std::to_string(receiver_port_) + path; }
  void postback(const std::string& event, const std::string& path, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"postback", "add", "--event", event, "--url", url(path)};
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_EQ(ctl(args), 0) << slurp(dir_.file("ctl.log"));
  }
  static std::string header(const nlohmann::json& request, const std::string& name) {
    auto it = request["headers"].find(name);
    return it == request["headers"].end() ? "" : it->get<std::string>();
  }
  // A connected call held for hold_ms, placed and waited for.
  void connected_call(int hold_ms) {
    auto b = answering_buyer({"pub1", std::nullopt, "camp1"});
    expect_calls({&b}, PublisherPlan{}, {"-d", std::to_string(hold_ms)});
  }
  std::int64_t scalar(const std::string& sql) { return db_.query_int(sql).value_or(-1); }

  int receiver_port_ = free_port();
  Process receiver_;
};

TEST_F(Postbacks, TheFourEventsOfAConvertedCallArriveOnceEachInOrderWithTheirTokens) {
  provision_basic();
  ASSERT_EQ(ctl({"campaign", "update", "camp1", "--conversion-seconds", "1"}), 0);
  const std::string query = "?call=[call_uuid]&key=[postback_key]&caller=[caller_number]&dur=[duration]&conv=[converted]"
                            "&buyer=[buyer_id]&pub=[publisher_id]&side=[hangup_side]";
  for (const char* event : {"inbound", "connected", "converted", "completed"}) postback(event, std::string("/") + event + query);
  postback("converted", "/json", {"--method", "POST", "--header", "Content-Type: application/json", "--body",
                                  R"({"event":"[event]","key":"[postback_key]","sub":"[sub_id]"})"});
  start_receiver();
  start_with_metrics();
  auto b = answering_buyer({"pub1", std::string("a\"b"), "camp1"});
  PublisherPlan plan;
  plan.sub_id = "a\"b";  // a quote: JSON-escaped in the body
  expect_calls({&b}, plan, {"-d", "2500"});  // held past the conversion time
  auto rows = calls(1);
  ASSERT_EQ(rows.size(), 1u);
  const std::string uuid = rows[0]["uuid"];
  const std::string key = ctl_json({"calls", "show", uuid})["postback_key"];
  auto got = wait_for_requests(5);
  std::this_thread::sleep_for(500ms);  // nothing more comes
  got = received();
  ASSERT_EQ(got.size(), 5u);
  std::vector<std::string> order;
  std::set<std::string> idempotency_keys;
  for (const auto& r : got) {
    const std::string path = r["path"];
    if (path.starts_with("/json")) continue;
    order.push_back(path.substr(1, path.find('?') - 1));
    EXPECT_NE(path.find("call=" + uuid), std::string::npos) << path;
    EXPECT_NE(path.find("key=" + key), std::string::npos) << path;
    EXPECT_NE(path.find("caller=%2B15551230000"), std::string::npos) << path;
    EXPECT_NE(path.find("pub=pub1"), std::string::npos) << path;
    idempotency_keys.insert(header(r, "idempotency-key"));
  }
  EXPECT_EQ(order, (std::vector<std::string>{"inbound", "connected", "converted", "completed"}));
  EXPECT_EQ(idempotency_keys.size(), 4u);  // one per event
  const std::string converted = got[2]["path"].get<std::string>().starts_with("/converted") ? got[2]["path"] : got[3]["path"];
  EXPECT_NE(converted.find("conv=true"), std::string::npos) << converted;
  EXPECT_NE(converted.find("dur=1"), std::string::npos) << converted;  // converted after 1 s connected
  EXPECT_NE(converted.find("buyer=buyer1"), std::string::npos) << converted;
  for (const auto& r : got) {
    if (r["path"].get<std::string>().starts_with("/completed")) {
      EXPECT_NE(r["path"].get<std::string>().find("conv=true"), std::string::npos);
      EXPECT_NE(r["path"].get<std::string>().find("side=publisher"), std::string::npos);
      EXPECT_NE(r["path"].get<std::string>().find("dur=2"), std::string::npos);
    }
    if (r["path"] == "/json") {
      EXPECT_EQ(r["method"], "POST");
      auto body = nlohmann::json::parse(r["body"].get<std::string>(), nullptr, false);
      ASSERT_TRUE(body.is_object()) << r["body"];
      EXPECT_EQ(body["event"], "converted");
      EXPECT_EQ(body["key"], key);
      EXPECT_EQ(body["sub"], "a\"b");
    }
  }
  rows = ctl_json({"calls", "list"});
  EXPECT_FALSE(rows[0]["converted_at"].is_null());
  const std::string m = scrape();
  EXPECT_TRUE(has_line(m, "sipgw_calls_converted_total 1")) << m;
  EXPECT_TRUE(has_line(m, "sipgw_postbacks_total{event=\"converted\",result=\"sent\"} 2")) << m;
}

TEST_F(Postbacks, NoConversionBeforeItsTimeAndABuyerOverridesTheCampaign) {
  provision_basic();
  ASSERT_EQ(ctl({"campaign", "update", "camp1", "--conversion-seconds", "1"}), 0);
  ASSERT_EQ(ctl({"buyer", "update", "buyer1", "--conversion-seconds", "30"}), 0);
  postback("converted", "/converted");
  postback("completed", "/completed?conv=[converted]");
  start_receiver();
  start_gateway();
  connected_call(1500);  // past the campaign's 1 s, short of the buyer's 30 s
  auto got = wait_for_requests(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["path"], "/completed?conv=false");
  EXPECT_TRUE(calls(1)[0]["converted_at"].is_null());
}

TEST_F(Postbacks, AReceiverDownForAMinuteGetsEverythingAfterItComesBackAcrossAKill9) {
  provision_basic();
  ASSERT_EQ(ctl({"setting", "set", "postback.max_backoff", "4"}), 0);
  postback("completed", "/completed?call=[call_uuid]");
  start_with_metrics();
  constexpr int kCalls = 3;
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"}, 0, {"-m", std::to_string(kCalls)});
  expect_calls({&b}, PublisherPlan{}, {"-m", std::to_string(kCalls), "-r", "10"});
  ASSERT_TRUE(eventually([&] { return scalar("SELECT count(*) FROM postback_outbox WHERE state = 'pending'") == kCalls; }));
  EXPECT_TRUE(eventually([&] { return has_line(scrape(), "sipgw_postback_outbox_depth 3"); })) << scrape();
  std::this_thread::sleep_for(25s);  // the receiver is down: retries, backing off
  EXPECT_GE(scalar("SELECT min(attempts) FROM postback_outbox"), 3);
  gateway_.kill_now();  // what was stored survives
  start_gateway();
  std::this_thread::sleep_for(35s);  // a minute down in all
  EXPECT_EQ(scalar("SELECT count(*) FROM postback_outbox WHERE state = 'pending'"), kCalls);
  start_receiver();
  auto got = wait_for_requests(kCalls, 30s);
  EXPECT_EQ(got.size(), static_cast<std::size_t>(kCalls));
  std::set<std::string> paths;
  for (const auto& r : got) paths.insert(r["path"]);
  EXPECT_EQ(paths.size(), static_cast<std::size_t>(kCalls)) << "each call's event once";
  EXPECT_TRUE(eventually([&] { return scalar("SELECT count(*) FROM postback_outbox WHERE state = 'delivered'") == kCalls; }));
}

TEST_F(Postbacks, AReceiverThatAnswers500ForeverEndsInTheFailuresList) {
  provision_basic();
  ASSERT_EQ(ctl({"setting", "set", "postback.retry_for", "3"}), 0);
  ASSERT_EQ(ctl({"setting", "set", "postback.max_backoff", "1"}), 0);
  postback("completed", "/completed");
  start_receiver(500);
  start_gateway();
  connected_call(100);
  nlohmann::json failures;
  ASSERT_TRUE(eventually([&] {
    failures = ctl_json({"postback", "failures"});
    return failures.is_array() && failures.size() == 1;
  }, 20s)) << failures.dump();
  EXPECT_EQ(failures[0]["last_status"], 500);
  EXPECT_EQ(failures[0]["event"], "completed");
  EXPECT_GE(failures[0]["attempts"].get<int>(), 2);
  const auto tries = received().size();
  EXPECT_EQ(tries, static_cast<std::size_t>(failures[0]["attempts"].get<int>()));
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(received().size(), tries) << "a failed delivery is not tried again by itself";
  // retry puts it back in line.
  ASSERT_EQ(ctl({"postback", "retry", std::to_string(failures[0]["id"].get<int>())}), 0);
  EXPECT_TRUE(eventually([&] { return received().size() > tries; }));
  EXPECT_NE(ctl({"postback", "retry", "999999"}), 0);
}

TEST_F(Postbacks, HttpsPeersAreVerifiedAgainstTheTrustStoreAndTheirName) {
  provision_basic();
  const std::string cert = dir_.file("cert.pem"), key = dir_.file("key.pem");
  const std::string make_cert = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext "
                                "subjectAltName=IP:127.0.0.1 -keyout " + key + " -out " + cert + " > " +
                                dir_.file("openssl.log") + " 2>&1";
  ASSERT_EQ(std::system(make_cert.c_str()), 0) << slurp(dir_.file("openssl.log"));
  const std::string port = std::to_string(receiver_port_);
  ASSERT_EQ(ctl({"postback", "add", "--event", "completed", "--url", "https://127.0.0.1:" + port + "/trusted"}), 0);
  // The same server by a name its certificate does not carry.
  ASSERT_EQ(ctl({"postback", "add", "--event", "completed", "--url", "https://localhost:" + port + "/wrong-name"}), 0);
  start_receiver(200, {cert, key});
  gateway_env_ = {"SSL_CERT_FILE=" + cert};  // the test's CA is the only one trusted
  start_gateway();
  connected_call(100);
  auto got = wait_for_requests(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["path"], "/trusted");
  std::string error;
  EXPECT_TRUE(eventually([&] {
    auto stmt = db_.prepare("SELECT last_error FROM postback_outbox WHERE url LIKE '%wrong-name'");
    if (!stmt || !stmt->step().value_or(false)) return false;
    error = stmt->text(0);
    return !error.empty();
  }));
  EXPECT_NE(error.find("certificate verify failed"), std::string::npos) << error;
  EXPECT_EQ(received().size(), 1u) << "nothing sent to a peer that failed verification";
}

TEST_F(Postbacks, TheKeyEndpointConvertsACallOnceAndRefusesAWrongToken) {
  provision_basic();
  postback("converted", "/converted?call=[call_uuid]&conv=[converted]");
  std::ofstream(dir_.file("api-token")) << "test-token-0123456789abcdef\n";
  start_receiver();
  start_with_metrics({"--api-token-file", dir_.file("api-token")});
  connected_call(100);
  auto rows = calls(1);
  const std::string uuid = rows[0]["uuid"];
  const std::string key = ctl_json({"calls", "show", uuid})["postback_key"];
  const std::string path = "/v1/calls/" + key + "/convert";
  EXPECT_EQ(http_request(metrics_port_, "POST", path).status, 401);
  EXPECT_EQ(http_request(metrics_port_, "POST", path, "Authorization: Bearer wrong-token-0123456789\r\n").status, 401);
  const std::string auth = "Authorization: Bearer test-token-0123456789abcdef\r\n";
  EXPECT_EQ(http_request(metrics_port_, "POST", "/v1/calls/" + std::string(32, '0') + "/convert", auth).status, 404);
  EXPECT_EQ(http_request(metrics_port_, "GET", path, auth).status, 405);
  auto first = http_request(metrics_port_, "POST", path, auth);
  ASSERT_EQ(first.status, 200) << first.body;
  auto body = nlohmann::json::parse(first.body);
  EXPECT_EQ(body["call_uuid"], uuid);
  EXPECT_EQ(body["first"], true);
  auto again = http_request(metrics_port_, "POST", path, auth);
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(nlohmann::json::parse(again.body)["first"], false);
  auto got = wait_for_requests(1);
  std::this_thread::sleep_for(500ms);
  got = received();
  ASSERT_EQ(got.size(), 1u) << "converted once";
  EXPECT_EQ(got[0]["path"], "/converted?call=" + uuid + "&conv=true");
  EXPECT_FALSE(ctl_json({"calls", "list"})[0]["converted_at"].is_null());
  auto reject = http_request(metrics_port_, "POST", "/v1/calls/" + key + "/reject", auth);
  EXPECT_EQ(reject.status, 200);
  EXPECT_FALSE(ctl_json({"calls", "show", uuid})["rejected_at"].is_null());
}

}  // namespace
}  // namespace sipgw::integration
