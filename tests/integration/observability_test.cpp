// /metrics and /healthz of the real daemon.
#include "harness.h"

#include <cctype>
#include <cstdio>

namespace sipgw::integration {
namespace {

class Observability : public GatewayTest {
 protected:
  void start() { start_with_metrics(); }
};

TEST_F(Observability, MetricsCountCallsRejectionsAndAttemptsWithBoundedLabels) {
  provision_basic();
  start();
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"});
  expect_calls({&b}, {}, {"-d", "50"});
  publisher_port_ = free_port();
  PublisherPlan refused;
  refused.expect = 403;
  auto r = place(refused, {}, "127.0.0.2");
  EXPECT_EQ(r.wait(), 0);
  publisher_port_ = free_port();
  PublisherPlan unknown;
  unknown.domain = "evil.example.com";
  unknown.expect = 403;
  auto u = place(unknown);
  EXPECT_EQ(u.wait(), 0);

  std::string m;
  ASSERT_TRUE(eventually([&] {
    m = scrape();
    return has_line(m, "sipgw_calls_total{outcome=\"answered\"} 1");
  })) << m;
  EXPECT_TRUE(has_line(m, "sipgw_invites_total{domain=\"ip.test\",result=\"admitted\"} 1")) << m;
  EXPECT_TRUE(has_line(m, "sipgw_invites_total{domain=\"ip.test\",result=\"rejected\"} 1")) << m;
  EXPECT_TRUE(has_line(m, "sipgw_invites_total{domain=\"unknown\",result=\"rejected\"} 1")) << m;
  EXPECT_TRUE(has_line(m, "sipgw_auth_failures_total{domain=\"ip.test\",reason=\"ip_not_allowed\"} 1")) << m;
  EXPECT_TRUE(has_line(m, "sipgw_buyer_attempts_total{buyer=\"buyer1\",result=\"answered\"} 1")) << m;
  EXPECT_TRUE(has_line(m, "sipgw_buyer_calls_active{buyer=\"buyer1\"} 0")) << m;
  EXPECT_TRUE(has_line(m, "sipgw_calls_active 0")) << m;
  EXPECT_TRUE(has_line(m, "sipgw_call_setup_seconds_count 1")) << m;
  EXPECT_TRUE(has_line(m, "sipgw_post_dial_delay_seconds_count 1")) << m;
  EXPECT_TRUE(has_line(m, "sipgw_sip_requests_total{method=\"INVITE\"} 3")) << m;
  EXPECT_TRUE(has_line(m, "sipgw_sip_requests_total{method=\"BYE\"} 1")) << m;
  EXPECT_TRUE(has_line(m, "sipgw_provisioning_generation 1")) << m;
  EXPECT_TRUE(has_line(m, "sipgw_cdr_queue_depth 0")) << m;
  EXPECT_TRUE(has_line(m, "sipgw_build_info{version=\"" SIPGW_VERSION "\"} 1")) << m;
  // Never a number, a caller, a foreign domain or an address in a label.
  for (const char* leak : {"+1888", "+1555", "evil.example.com", "127.0.0.2"}) {
    EXPECT_EQ(m.find(leak), std::string::npos) << leak;
  }

  // A provisioning change shows up as a new generation and a reload.
  ASSERT_EQ(ctl({"publisher", "add", "late"}), 0);
  ASSERT_TRUE(eventually([&] { return has_line(scrape(), "sipgw_provisioning_generation 2"); }));
  EXPECT_TRUE(has_line(scrape(), "sipgw_provisioning_reloads_total 1"));
}

TEST_F(Observability, HealthzIsOkWhileServingAndUnhealthyWhileDraining) {
  provision_basic();
  start();
  EXPECT_EQ(http_get(metrics_port_, "/healthz").status, 200);
  EXPECT_EQ(http_get(metrics_port_, "/nope").status, 404);
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"});
  auto p = place({}, {"-d", "1500"});
  ASSERT_TRUE(eventually([&] { return gateway_.log().find("answered by buyer") != std::string::npos; }));
  gateway_.signal(SIGTERM);
  ASSERT_TRUE(eventually([&] { return http_get(metrics_port_, "/healthz").status == 503; }));
  EXPECT_EQ(http_get(metrics_port_, "/healthz").body, "draining\n");
  EXPECT_EQ(p.wait(), 0);
  EXPECT_EQ(b.wait(), 0);
  EXPECT_EQ(gateway_.wait(), 0);
}

}  // namespace
}  // namespace sipgw::integration

namespace sipgw::integration {
namespace {

// The value of a single-sample PromQL query, or nullopt while there is none.
std::optional<double> prometheus_value(int port, const std::string& promql) {
  std::string q;
  for (char c : promql) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      q += c;
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
      q += hex;
    }
  }
  auto reply = http_get(port, "/api/v1/query?query=" + q);
  if (reply.status != 200) return std::nullopt;
  auto j = nlohmann::json::parse(reply.body, nullptr, false);
  if (!j.is_object() || j["status"] != "success" || j["data"]["result"].empty()) return std::nullopt;
  return std::stod(j["data"]["result"][0]["value"][1].get<std::string>());
}

TEST_F(Observability, ARealPrometheusScrapesTheCallCount) {
  if (std::system("command -v prometheus > /dev/null") != 0) GTEST_SKIP() << "prometheus is not installed";
  provision_basic();
  start();
  // The project's scrape config, pointed at this gateway, scraping every second.
  std::string config = slurp(std::string(DEPLOY_DIR) + "/prometheus/prometheus.yml");
  auto replace = [&](const std::string& from, const std::string& to) {
    auto at = config.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    config.replace(at, from.size(), to);
  };
  replace("127.0.0.1:9469", "127.0.0.1:" + std::to_string(metrics_port_));
  replace("scrape_interval: 15s", "scrape_interval: 1s");
  replace("- sipgw-rules.yml", "- " + std::string(DEPLOY_DIR) + "/prometheus/sipgw-rules.yml");
  auto config_path = write_scenario("prometheus.yml", config);
  int prometheus_port = free_port();
  Process prometheus({"prometheus", "--config.file=" + config_path, "--storage.tsdb.path=" + dir_.file("tsdb"),
                      "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)},
                     dir_.file("prometheus.log"));
  logs_.emplace_back("prometheus", dir_.file("prometheus.log"));
  // Wait for a first successful scrape; sipgw_calls_total has no series before a call.
  ASSERT_TRUE(eventually([&] { return prometheus_value(prometheus_port, "up{job=\"sipgw\"}") == 1.0; }, 30s));
  const double before = prometheus_value(prometheus_port, "sum(sipgw_calls_total)").value_or(0);

  constexpr int kCalls = 3;
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"}, 0, {"-m", std::to_string(kCalls)});
  expect_calls({&b}, {}, {"-m", std::to_string(kCalls), "-r", "10", "-d", "50"});
  std::optional<double> after;
  EXPECT_TRUE(eventually([&] {
    after = prometheus_value(prometheus_port, "sum(sipgw_calls_total)");
    return after && *after - before >= kCalls;
  }, 30s));
  ASSERT_TRUE(after);
  EXPECT_EQ(*after - before, kCalls);
  EXPECT_EQ(prometheus_value(prometheus_port, "sum(sipgw_calls_total{outcome=\"answered\"})"), kCalls);
}

}  // namespace
}  // namespace sipgw::integration
