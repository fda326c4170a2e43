// Call screening with the real daemon and SIPp peers: every refusal gets its
// status, never reaches a buyer (its CDR has no attempt and the buyer SIPp
// would answer anything that came) and leaves a CDR row with outcome
// "blocked" and its reason.
#include "harness.h"

#include "tests/shaken_support.h"

namespace sipgw::integration {
namespace {

std::string identity(const std::string& attest, const std::string& caller) {
  return test_support::shaken_identity(attest, caller);
}

class Screening : public GatewayTest {
 protected:
  // The calls sipgw refused by screening, by uuid order of arrival (oldest first).
  std::vector<nlohmann::json> screened(std::size_t n) {
    std::vector<nlohmann::json> out;
    auto rows = calls(n);
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
      if ((*it)["outcome"] == "blocked") out.push_back(*it);
    }
    return out;
  }
  void expect_refused(const PublisherPlan& plan) {
    auto p = place(plan);
    EXPECT_EQ(p.wait(30s), 0) << "caller " << plan.caller << " expected " << plan.expect;
  }
  static void never_reached_a_buyer(const nlohmann::json& row) {
    EXPECT_EQ(row["attempts"], 0) << row.dump();
    EXPECT_TRUE(row["buyer_id"].is_null()) << row.dump();
    EXPECT_TRUE(row["answer_at"].is_null()) << row.dump();
    EXPECT_EQ(row["hangup_cause"], "screened") << row.dump();
  }
};

TEST_F(Screening, BlockedNumbersPrefixesAndAnonymousCallersNeverReachABuyer) {
  provision_basic();
  ASSERT_EQ(ctl({"block", "add", "+15557770001", "--note", "complaint"}), 0);
  ASSERT_EQ(ctl({"block", "add", "+1666*"}), 0);
  ASSERT_EQ(ctl({"block", "add", "anonymous", "--campaign", "camp1"}), 0);
  start_with_metrics();
  PublisherPlan plan;
  plan.expect = 603;
  plan.check_headers = {{"Content-Length", "0"}};
  for (const char* caller : {"+15557770001", "+16665550100", "anonymous"}) {
    plan.caller = caller;
    expect_refused(plan);
  }
  // Privacy: id and no identity sipgw may use: anonymous too.
  plan.caller = "+15551230000";
  plan.extra_headers = "Privacy: id\n";
  expect_refused(plan);
  // A caller on no list is bridged as ever.
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"});
  expect_calls({&b}, PublisherPlan{});

  auto rows = screened(5);
  ASSERT_EQ(rows.size(), 4u);
  const char* reasons[] = {"blocked_number", "blocked_number", "anonymous", "anonymous"};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i]["block_reason"], reasons[i]) << rows[i].dump();
    EXPECT_EQ(rows[i]["final_status"], 603);
    EXPECT_EQ(rows[i]["number"], "+18882223333");
    EXPECT_EQ(rows[i]["publisher_id"], "pub1");
    never_reached_a_buyer(rows[i]);
  }
  EXPECT_EQ(rows[0]["caller"], "+15557770001");
  const std::string metrics = scrape();
  EXPECT_TRUE(has_line(metrics, "sipgw_calls_screened_total{reason=\"blocked_number\"} 2")) << metrics;
  EXPECT_TRUE(has_line(metrics, "sipgw_calls_screened_total{reason=\"anonymous\"} 2")) << metrics;
  EXPECT_NE(gateway_.log().find("call " + rows[0]["uuid"].get<std::string>() + " INVITE +18882223333 from publisher pub1 "
                                "caller +15557770001 screened out: blocked_number (603 Blocked Number)"),
            std::string::npos);
  // The status is a setting.
  ASSERT_EQ(ctl({"setting", "set", "screening.blocked_status", "433"}), 0);
  plan.extra_headers.clear();
  plan.caller = "+15557770001";
  plan.expect = 433;
  ASSERT_TRUE(eventually([&] {
    auto p = place(plan);
    return p.wait(30s) == 0;
  })) << "the new status never applied";
}

TEST_F(Screening, RepeatCallersAreRefusedInsideTheWindowAcrossARestartAndWelcomeAfterIt) {
  provision_basic();
  ASSERT_EQ(ctl({"campaign", "update", "camp1", "--repeat-window", "3600"}), 0);
  start_gateway();
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"});
  PublisherPlan first;
  first.caller = "+15550001111";
  expect_calls({&b}, first);
  PublisherPlan again = first;
  again.expect = 486;
  expect_refused(again);
  // Another caller is no repeat caller.
  auto b2 = answering_buyer({"pub1", std::nullopt, "camp1"});
  PublisherPlan other;
  other.caller = "+15550002222";
  expect_calls({&b2}, other);
  // The memory is rebuilt from the CDRs at start.
  gateway_.signal(SIGTERM);
  ASSERT_EQ(gateway_.wait(20s), 0);
  start_gateway();
  expect_refused(again);
  // Outside the window (shortened to 1 s; the first call is older): welcome.
  ASSERT_EQ(ctl({"campaign", "update", "camp1", "--repeat-window", "1"}), 0);
  std::this_thread::sleep_for(1500ms);  // the window itself, not a measurement
  auto b3 = answering_buyer({"pub1", std::nullopt, "camp1"});
  expect_calls({&b3}, first);

  auto rows = screened(5);
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows) {
    EXPECT_EQ(row["block_reason"], "repeat_caller");
    EXPECT_EQ(row["final_status"], 486);
    EXPECT_EQ(row["caller"], "+15550001111");
    never_reached_a_buyer(row);
  }
}

TEST_F(Screening, RepeatAfterConvertedWelcomesACallerWhoseCallDidNotConvert) {
  provision_basic();
  ASSERT_EQ(ctl({"campaign", "update", "camp1", "--repeat-window", "3600", "--repeat-after", "converted",
                 "--conversion-seconds", "1"}),
            0);
  start_gateway();
  for (int hold_ms : {100, 1500}) {  // short of the conversion time, then past it
    auto b = answering_buyer({"pub1", std::nullopt, "camp1"});
    expect_calls({&b}, PublisherPlan{}, {"-d", std::to_string(hold_ms)});
  }
  PublisherPlan again;
  again.expect = 486;
  expect_refused(again);
  auto rows = calls(3);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["block_reason"], "repeat_caller");
  EXPECT_FALSE(rows[1]["converted_at"].is_null());
  EXPECT_TRUE(rows[2]["converted_at"].is_null());
}

TEST_F(Screening, ARepeatCallerCanBeSentToOneBuyerOnly) {
  provision_basic();
  const int repeat_port = free_port();
  db::BuyerChanges b;
  b.target = "sip:repeats@127.0.0.1:" + std::to_string(repeat_port);
  b.headers = std::vector<std::string>{"X-Campaign-ID: [campaign_id]"};
  ok(admin().add_buyer("repeats", b));  // not routed from the campaign
  ASSERT_EQ(ctl({"campaign", "update", "camp1", "--repeat-window", "3600", "--repeat-route", "repeats"}), 0);
  start_gateway();
  auto first = answering_buyer({"pub1", std::nullopt, "camp1"});
  expect_calls({&first}, PublisherPlan{});
  auto repeat = answering_buyer({"pub1", std::nullopt, "camp1"}, repeat_port);
  expect_calls({&repeat}, PublisherPlan{});
  auto rows = calls(2);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["buyer_id"], "repeats");
  EXPECT_EQ(rows[1]["buyer_id"], "buyer1");
}

TEST_F(Screening, AttestationBelowTheMinimumIsDeclinedAndTheIdentityPassesToTheBuyer) {
  provision_basic();
  ASSERT_EQ(ctl({"campaign", "update", "camp1", "--min-attestation", "B"}), 0);
  ASSERT_EQ(ctl({"setting", "set", "inbound.token_headers", "X-Zip"}), 0);
  db::BuyerChanges headers;
  headers.headers = std::vector<std::string>{"X-Campaign-ID: [campaign_id]", "X-Attest: [attestation]/[verstat]",
                                             "X-Lead-Zip: [header:X-Zip]"};
  ok(admin().update_buyer("buyer1", headers));
  start_gateway();
  PublisherPlan low;
  low.expect = 603;
  low.extra_headers = "Identity: " + identity("C", low.caller) + "\n";
  expect_refused(low);
  PublisherPlan none;  // no Identity at all
  none.expect = 603;
  expect_refused(none);
  // An A PASSporT in an Identity header over 4 KB is not believed.
  PublisherPlan huge;
  huge.expect = 603;
  huge.extra_headers = "Identity: " + identity("A", huge.caller) + ";pad=" + std::string(4200, 'x') + "\n";
  expect_refused(huge);

  const std::string good = identity("A", "+15551230000");
  BuyerExpectations e{"pub1", std::nullopt, "camp1"};
  e.headers = {{"Identity", good}, {"X-Attest", "A/TN-Validation-Passed"}, {"X-Lead-Zip", "90210"}};
  auto b = answering_buyer(e);
  PublisherPlan high;
  high.caller = "+15551230000;verstat=TN-Validation-Passed";
  high.extra_headers = "Identity: " + good + "\nX-Zip: 90210\n";
  expect_calls({&b}, high);

  auto rows = calls(4);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["attestation"], "A");
  EXPECT_TRUE(rows[0]["outcome"].is_null());
  EXPECT_EQ(rows[0]["caller"], "+15551230000");
  EXPECT_EQ(rows[1]["attestation"], "none");  // the oversized one
  for (int i : {1, 2, 3}) {
    EXPECT_EQ(rows[i]["outcome"], "blocked");
    EXPECT_EQ(rows[i]["block_reason"], "attestation");
    EXPECT_EQ(rows[i]["final_status"], 603);
    never_reached_a_buyer(rows[i]);
  }
  EXPECT_EQ(rows[2]["attestation"], "none");
  EXPECT_EQ(rows[3]["attestation"], "C");
}

TEST_F(Screening, AnAssertedIdentityIsTheCallerOnlyForATrustedPublisher) {
  provision_basic();
  ASSERT_EQ(ctl({"block", "add", "+15559990000"}), 0);
  start_gateway();
  // Not trusted: the P-Asserted-Identity is ignored, From is the caller.
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"});
  PublisherPlan plan;
  plan.extra_headers = "P-Asserted-Identity: <sip:+15559990000@carrier.example>\n";
  expect_calls({&b}, plan);
  ASSERT_EQ(ctl({"publisher", "update", "pub1", "--caller-from", "pai"}), 0);
  plan.expect = 603;
  ASSERT_TRUE(eventually([&] {
    auto p = place(plan);
    return p.wait(30s) == 0;
  })) << "the asserted caller was never screened";
  auto rows = screened(2);
  ASSERT_GE(rows.size(), 1u);
  EXPECT_EQ(rows.back()["caller"], "+15559990000");
}

TEST_F(Screening, PublisherHourlyCapAndCallsPerSecond) {
  provision_basic();
  ASSERT_EQ(ctl({"publisher", "update", "pub1", "--hourly-cap", "1"}), 0);
  start_with_metrics();
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"});
  expect_calls({&b}, PublisherPlan{});
  PublisherPlan capped;
  capped.expect = 486;
  expect_refused(capped);

  // One call a second: a burst of five gets one token's worth through to the
  // block list (603) and 503 + Retry-After for the rest.
  ASSERT_EQ(ctl({"publisher", "update", "pub1", "--hourly-cap", "none", "--cps", "1"}), 0);
  ASSERT_EQ(ctl({"block", "add", "+15557770001"}), 0);
  std::this_thread::sleep_for(1s);  // the reload, and a full bucket
  PublisherPlan burst;
  burst.caller = "+15557770001";
  burst.expect = 503;
  burst.expect_retry_after = true;
  burst.or_expect = {603};
  auto p = place(burst, {"-m", "5", "-r", "50"});
  EXPECT_EQ(p.wait(30s), 0);
  auto rows = screened(7);
  std::map<std::string, int> by_reason;
  for (const auto& row : rows) {
    ++by_reason[row["block_reason"].get<std::string>()];
    never_reached_a_buyer(row);
    if (row["block_reason"] == "publisher_rate") {
      EXPECT_EQ(row["final_status"], 503);
    } else if (row["block_reason"] == "publisher_cap") {
      EXPECT_EQ(row["final_status"], 486);
    }
  }
  EXPECT_EQ(by_reason["publisher_cap"], 1);
  EXPECT_GE(by_reason["publisher_rate"], 3);  // at 50 calls/s, a second token may come in time for the fifth
  EXPECT_EQ(by_reason["publisher_rate"] + by_reason["blocked_number"], 5);
  EXPECT_GE(by_reason["blocked_number"], 1);
  EXPECT_TRUE(has_line(scrape(), "sipgw_calls_screened_total{reason=\"publisher_cap\"} 1"));
}

TEST_F(Screening, ALargeBlockImportWhileCallsFlow) {
  provision_basic();
  start_gateway();
  constexpr int kEntries = 100000;
  {
    std::ofstream list(dir_.file("blocks.txt"));
    for (int i = 0; i < kEntries; ++i) list << "+1777" << (1000000 + i) << "\n";
  }
  constexpr int kCalls = 60;
  auto b = answering_buyer({"pub1", std::nullopt, "camp1"}, 0, {"-m", std::to_string(kCalls)});
  auto p = place(PublisherPlan{}, {"-m", std::to_string(kCalls), "-r", "20"});
  std::this_thread::sleep_for(1s);  // calls in flight
  ASSERT_EQ(ctl({"block", "import", dir_.file("blocks.txt")}), 0) << slurp(dir_.file("ctl.log"));
  EXPECT_EQ(p.wait(60s), 0) << "a call failed during the import";
  EXPECT_EQ(b.wait(60s), 0);
  PublisherPlan blocked;
  blocked.caller = "+17771099999";  // the last line
  blocked.expect = 603;
  ASSERT_TRUE(eventually([&] {
    auto q = place(blocked);
    return q.wait(30s) == 0;
  })) << "the imported list never applied";
  EXPECT_EQ(ctl_json({"block", "list"}).size(), static_cast<std::size_t>(kEntries));
  EXPECT_NE(gateway_.log().find(std::to_string(kEntries) + " block entries)"), std::string::npos);
}

}  // namespace
}  // namespace sipgw::integration
