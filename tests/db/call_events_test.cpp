#include "db/call_events.h"
#include "db/admin.h"
#include "db/schema.h"

#include "temp_db.h"

#include <gtest/gtest.h>

namespace sipgw::db {
namespace {

class CallEvents : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Connection::open(dir_.file("e.db"), Connection::Mode::read_write_create);
    ASSERT_TRUE(c);
    db_ = std::move(*c);
    ASSERT_TRUE(migrate(db_));
    Admin a(db_);
    ASSERT_TRUE(a.add_publisher("pub1", "", std::nullopt));
    ASSERT_TRUE(a.add_campaign("camp1", "", 30));
    ASSERT_TRUE(a.add_campaign("camp2", "", 30));
    BuyerChanges b;
    b.target = "sip:b@h";
    ASSERT_TRUE(a.add_buyer("b1", b));
  }
  std::int64_t add(PostbackSpec spec) {
    auto id = Admin(db_).add_postback(spec);
    EXPECT_TRUE(id) << id.error().message;
    return id.value_or(0);
  }
  static CallRecord call(const std::string& uuid, std::vector<CallEvent> events) {
    CallRecord c;
    c.uuid = uuid;
    c.postback_key = "key-" + uuid;
    c.publisher_id = "pub1";
    c.caller = "+15551230000";
    c.number = "+18882223333";
    c.campaign_id = "camp1";
    c.buyer_id = "b1";
    c.invite_at = 1000;
    c.answer_at = 2000;
    c.end_at = 65000;
    c.final_status = 200;
    c.hangup_side = "buyer";
    c.hangup_cause = "BYE";
    c.events = std::move(events);
    return c;
  }
  std::vector<Delivery> due(std::int64_t now = 1'000'000, const std::set<std::string>& busy = {}) {
    auto d = due_deliveries(db_, now, 100, busy);
    EXPECT_TRUE(d);
    return d.value_or(std::vector<Delivery>{});
  }

  test_support::TempDir dir_;
  Connection db_;
};

TEST_F(CallEvents, EachEventBecomesOneDeliveryPerMatchingPostbackRenderedFromTheRecord) {
  add({"completed", "http://r.example/c/[event]?d=[duration]&c=[caller_number]&b=[buyer_id]&s=[hangup_side]"});
  add({"completed", "https://other.example:8443/x", "POST", {"Content-Type: application/json", "X-Key: [postback_key]"},
       R"({"call":"[call_uuid]","caller":"[caller_number]"})", std::string("camp1")});
  add({"completed", "http://r.example/camp2", "GET", {}, "", std::string("camp2")});  // another campaign
  add({"connected", "http://r.example/connected"});                                   // another event
  CdrWriter writer(db_);
  ASSERT_TRUE(writer.write({call("u1", {{"e1", "completed", 65000}})}));
  auto d = due();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].url, "http://r.example/c/completed?d=63&c=%2B15551230000&b=b1&s=buyer");
  EXPECT_EQ(d[0].method, "GET");
  EXPECT_EQ(d[0].event_id, "e1");
  EXPECT_EQ(d[0].call_uuid, "u1 http://r.example");
  EXPECT_EQ(d[1].method, "POST");
  EXPECT_EQ(d[1].body, R"({"call":"u1","caller":"+15551230000"})");
  EXPECT_EQ(d[1].headers, "Content-Type: application/json\nX-Key: key-u1");
  EXPECT_EQ(d[1].call_uuid, "u1 https://other.example:8443");
}

TEST_F(CallEvents, AConversionIsReportedOnceWhoeverClaimsItFirst) {
  add({"converted", "http://r.example/conv?at=[timestamp]&conv=[converted]"});
  CallRecord answered = call("u1", {});
  answered.in_progress = true;
  CdrWriter writer(db_);
  ASSERT_TRUE(writer.write({answered}));
  auto api = report_outcome(db_, "key-u1", "converted", 30000, "api-1");
  ASSERT_TRUE(api && *api);
  EXPECT_TRUE((*api)->first);
  auto again = report_outcome(db_, "key-u1", "converted", 31000, "api-2");
  ASSERT_TRUE(again && *again);
  EXPECT_FALSE((*again)->first);
  EXPECT_EQ((*again)->at_ms, 30000);
  // The call's own timer fires later: its converted event is dropped, its
  // final record keeps the API's time.
  CallRecord timer = call("u1", {{"timer-1", "converted", 32000}});
  timer.in_progress = true;
  timer.converted_at = 32000;
  CallRecord finished = call("u1", {});
  finished.converted_at = 32000;
  ASSERT_TRUE(writer.write({timer, finished}));
  auto d = due();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].event_id, "api-1");
  EXPECT_EQ(d[0].url, "http://r.example/conv?at=1970-01-01T00%3A00%3A30Z&conv=true");
  EXPECT_EQ(db_.query_int("SELECT converted_at FROM calls WHERE uuid = 'u1'").value(), 30000);
  EXPECT_FALSE(report_outcome(db_, "no-such-key", "converted", 1, "x").value());
}

TEST_F(CallEvents, ACallsDeliveriesToOneReceiverGoInOrderOthersAreNotHeldUp) {
  add({"connected", "http://a.example/1"});
  add({"completed", "http://a.example/2"});
  add({"completed", "http://b.example/3"});
  CdrWriter writer(db_);
  CallRecord connected = call("u1", {{"e1", "connected", 2000}});
  connected.in_progress = true;
  ASSERT_TRUE(writer.write({connected, call("u1", {{"e2", "completed", 65000}})}));
  auto d = due();
  ASSERT_EQ(d.size(), 2u);  // a.example/2 waits for a.example/1
  EXPECT_EQ(d[0].url, "http://a.example/1");
  EXPECT_EQ(d[1].url, "http://b.example/3");
  // In flight: not handed out twice.
  EXPECT_EQ(due(1'000'000, {d[0].call_uuid, d[1].call_uuid}).size(), 0u);
  // The first fails and is retried later: the second still waits.
  ASSERT_TRUE(delivery_failed(db_, d[0].id, 503, "HTTP 503", 5'000'000));
  EXPECT_EQ(due().size(), 1u);
  ASSERT_TRUE(delivery_succeeded(db_, d[0].id, 200, 2'000'000));
  auto next = due();
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[0].url, "http://a.example/2");
  // Failed for good: out of the line, into the failures.
  ASSERT_TRUE(delivery_failed(db_, next[0].id, 500, "HTTP 500", std::nullopt));
  auto failures = Admin(db_).list_postback_failures(10);
  ASSERT_TRUE(failures);
  ASSERT_EQ(failures->size(), 1u);
  EXPECT_EQ(pending_deliveries(db_).value(), 1);
}

TEST_F(CallEvents, InboundEventsWriteNoCallRow) {
  add({"inbound", "http://r.example/in?n=[number]"});
  CallRecord inbound = call("u9", {{"e9", "inbound", 1000}});
  inbound.events_only = true;
  ASSERT_TRUE(CdrWriter(db_).write({inbound}));
  EXPECT_EQ(db_.query_int("SELECT count(*) FROM calls").value(), 0);
  auto d = due();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].url, "http://r.example/in?n=%2B18882223333");
}

}  // namespace
}  // namespace sipgw::db
