// Hostile input costs little and breaks nothing: 20,000 malformed and
// mutated SIP messages (tests/fuzz/sip_fuzz.py, UDP and TCP, from
// 127.0.0.3, paced at 1,000 a second: malformed input, not a flood, which
// issue 12's overload work covers) while an allowlisted publisher places 20
// real calls. sipgw must stay up, every real call must complete, and it must
// still answer OPTIONS.
// The first run of the fuzzer aborted sipgw within 1.3 s ("Digest" with no
// parameters); the million-message run is a benchmark (README).
// Rate limits, failure bans and the header limit are off here: with them
// the fuzzer's source is banned within a second and the kernel drops the
// rest, so the parser would see almost nothing (the limits have their own
// tests).
#include "harness.h"

namespace sipgw::integration {
namespace {

class Fuzz : public GatewayTest {};

TEST_F(Fuzz, TwentyThousandMutatedMessagesBreakNothingAndRealCallsGoThrough) {
  provision_basic();
  for (const char* key : {"security.request_rate", "security.new_request_rate", "security.auth_failures", "sip.max_headers"})
    ASSERT_EQ(ctl({"setting", "set", key, "0"}), 0) << key;
  start_with_metrics();
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"}, 0, {"-m", "20"});
  auto p = place({}, {"-m", "20", "-r", "2", "-l", "20"});  // spread over the fuzzing
  const std::string fuzzer = std::string(SCENARIO_DIR) + "/../../fuzz/sip_fuzz.py";
  for (int seed = 1; seed <= 2; ++seed) {
    const std::string cmd = "python3 " + fuzzer + " 127.0.0.1 " + std::to_string(sip_port_) + " 10000 " +
                            std::to_string(seed) + " 127.0.0.3 1000 > " + dir_.file("fuzz.log") + " 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << slurp(dir_.file("fuzz.log"));
    ASSERT_TRUE(gateway_.running()) << "sipgw died under seed " << seed << "\n" << gateway_.log();
  }
  EXPECT_EQ(p.wait(60s), 0) << "a real call failed during the fuzzing";
  EXPECT_EQ(b.wait(60s), 0);
  EXPECT_TRUE(gateway_.running()) << gateway_.log();
  SipProbe probe(SipEndpoint{"127.0.0.1", sip_port_, false});
  auto reply = probe.final_response(sip_request("OPTIONS", SipEndpoint{"127.0.0.1", sip_port_, false}, probe.local_port()), 3s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(status_of(*reply), 200);
  EXPECT_TRUE(eventually([&] { return has_line(scrape(), "sipgw_calls_total{outcome=\"answered\"} 20"); })) << scrape();
  // The fuzzer was heard throughout: nothing banned or refused for its rate.
  // (sipgw_packets_dropped_total may still count datagrams the kernel
  // dropped on a full receive buffer where net.core.rmem_max is small.)
  const auto text = scrape();
  EXPECT_EQ(metric(text, "sipgw_bans_active"), 0) << text;
  for (const char* cause : {"rate_limited", "flood", "banned"}) {
    EXPECT_LE(metric(text, std::string("sipgw_requests_refused_total{cause=\"") + cause + "\"}"), 0) << text;
  }
}

}  // namespace
}  // namespace sipgw::integration
