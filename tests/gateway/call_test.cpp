// The call flow without Sofia: a Call driven through recording legs and a
// manual clock. The SIPp integration suite proves the same flows on the
// real stack; these pin the decisions down one event at a time.
#include "gateway/call.h"

#include <date/tz.h>
#include <gtest/gtest.h>

#include <map>

namespace sipgw::gateway {
namespace {

using namespace std::chrono_literals;

// Timers fire only when the test advances time.
class ManualClock final : public Clock {
 public:
  std::int64_t now_ms() const override { return now_; }
  TimerId start_timer(std::chrono::milliseconds delay, std::function<void()> fire) override {
    timers_[next_] = {now_ + delay.count(), std::move(fire)};
    return next_++;
  }
  void cancel_timer(TimerId id) override { timers_.erase(id); }
  void advance(std::chrono::milliseconds by) {
    const std::int64_t until = now_ + by.count();
    while (true) {
      auto due = timers_.end();
      for (auto it = timers_.begin(); it != timers_.end(); ++it) {
        if (it->second.first <= until && (due == timers_.end() || it->second.first < due->second.first)) due = it;
      }
      if (due == timers_.end()) break;
      now_ = due->second.first;
      auto fire = std::move(due->second.second);
      timers_.erase(due);
      fire();
    }
    now_ = until;
  }
  std::size_t pending() const { return timers_.size(); }

 private:
  std::int64_t now_ = 1'780'315'200'000;  // 2026-06-01 12:00 UTC
  TimerId next_ = 1;
  std::map<TimerId, std::pair<std::int64_t, std::function<void()>>> timers_;
};

// Records what the call asks of a leg; the test plays the peer through
// `listener`.
class FakeLeg final : public Leg {
 public:
  void bind(LegListener& l) override { listener = &l; }
  void respond(int status, const char*, const Body&, const std::string&) override { log("respond " + std::to_string(status)); }
  bool invite(const OutboundInvite& request, const std::string&, const Body&) override {
    target = request.request_uri;
    log("invite");
    return true;
  }
  bool authenticate(const OutboundCredentials&) override {
    log("authenticate");
    return true;
  }
  void ack(const Body& answer) override { log(answer.present() ? "ack " + answer.data : "ack"); }
  void bye() override { log("bye"); }
  void cancel(const std::string& reason) override {
    cancel_reason = reason;
    log("cancel");
  }
  void send_request(InDialogMethod method, const Body&) override { log("send " + std::string(to_string(method))); }
  void answer_request(InDialogMethod method, int status, const Body&) override {
    log("answer " + std::string(to_string(method)) + " " + std::to_string(status));
  }
  void release() override { released = true; }

  bool saw(const std::string& command) const { return std::find(commands.begin(), commands.end(), command) != commands.end(); }
  int count(const std::string& prefix) const {
    return static_cast<int>(std::count_if(commands.begin(), commands.end(), [&](auto& c) { return c.rfind(prefix, 0) == 0; }));
  }

  LegListener* listener = nullptr;
  std::vector<std::string> commands;
  std::string target;
  std::string cancel_reason;  // the Reason header of the last CANCEL
  bool released = false;

 private:
  void log(std::string command) { commands.push_back(std::move(command)); }
};

class CallFlow : public ::testing::Test {
 protected:
  CallFlow() {
    auto s = std::make_shared<routing::Snapshot>();
    s->campaigns["c"].id = "c";
    s->campaigns["c"].ring_timeout_seconds = 30;
    for (auto [id, priority] : {std::pair{"b1", 1}, std::pair{"b2", 2}, std::pair{"b3", 3}}) {
      routing::Buyer b;
      b.id = id;
      b.target = std::string("sip:") + id + "@pbx.example.com";
      b.time_zone = date::locate_zone("UTC");
      b.connect_timeout_seconds = 5;
      s->buyers[id] = b;
      s->campaigns["c"].routes.push_back({id, priority, 1});
    }
    snapshot = s;
  }

  // Starts a call; buyers are tried b1, b2, b3. An empty offer is a
  // delayed-offer INVITE.
  void start(Body offer = {"application/sdp", "v=0"}) {
    auto publisher_leg = std::make_unique<FakeLeg>();
    publisher = publisher_leg.get();
    CallSetup setup{snapshot, &snapshot->campaigns.at("c"), {}, std::move(offer), "69", clock.now_ms()};
    setup.facts.call_uuid = "call-1";
    setup.facts.publisher_id = "pub";
    setup.facts.campaign_id = "c";
    setup.facts.caller_number = "+15551230000";
    call = std::make_unique<Call>(services, std::move(setup), std::move(publisher_leg), PublisherSlot(ledger, "pub"),
                                  [this](Call&) { ++ended; });
    call->start();
  }

  FakeLeg& buyer(std::size_t i) { return *buyer_legs.at(i); }
  const db::CallRecord& cdr() { return cdrs.at(0); }

  std::shared_ptr<routing::Snapshot> snapshot;
  ManualClock clock;
  routing::BuyerLedger ledger;
  routing::BuyerSelector selector{7};
  routing::Screener screener{ledger};
  Metrics metrics{"test"};
  std::vector<db::CallRecord> cdrs;      // finished calls
  std::vector<db::CallRecord> partials;  // connected calls, stored at the answer
  CallRecorder recorder{metrics, [this](db::CallRecord r) { (r.in_progress ? partials : cdrs).push_back(std::move(r)); }};
  std::vector<FakeLeg*> buyer_legs;  // owned by the attempts
  CallServices services{clock, ledger, selector, screener, metrics, recorder,
                        [this](const std::string&) {
                          auto leg = std::make_unique<FakeLeg>();
                          buyer_legs.push_back(leg.get());
                          return leg;
                        },
                        [](const std::string&) { return std::string("gw.test:5060"); }};
  FakeLeg* publisher = nullptr;
  std::unique_ptr<Call> call;
  int ended = 0;
};

TEST_F(CallFlow, AnsweredCallRelaysTheAnswerAndByeFromThePublisherEndsBothLegs) {
  start();
  ASSERT_EQ(buyer_legs.size(), 1u);
  EXPECT_EQ(buyer(0).target, "sip:b1@pbx.example.com");
  EXPECT_EQ(ledger.in_progress("b1"), 1);
  buyer(0).listener->on_answered(200, "OK", {"application/sdp", "v=0 buyer"});
  EXPECT_TRUE(buyer(0).saw("ack"));
  EXPECT_TRUE(publisher->saw("respond 200"));
  EXPECT_EQ(call->state(), CallState::connected);
  // Stored at the answer, so a kill -9 cannot lose a connected call.
  ASSERT_EQ(partials.size(), 1u);
  EXPECT_EQ(partials[0].buyer_id, "b1");
  EXPECT_TRUE(partials[0].answer_at.has_value());
  ASSERT_EQ(partials[0].attempts.size(), 1u);
  EXPECT_TRUE(cdrs.empty());

  publisher->listener->on_bye();
  EXPECT_TRUE(buyer(0).saw("bye"));
  EXPECT_EQ(call->state(), CallState::ending);
  buyer(0).listener->on_terminated();
  publisher->listener->on_terminated();
  EXPECT_EQ(call->state(), CallState::ended);
  ASSERT_EQ(cdrs.size(), 1u);
  EXPECT_EQ(cdr().final_status, 200);
  EXPECT_EQ(cdr().hangup_side, "publisher");
  EXPECT_EQ(cdr().hangup_cause, "BYE");
  EXPECT_EQ(cdr().buyer_id, "b1");
  EXPECT_EQ(ledger.in_progress("b1"), 0);  // the slot came back exactly once
  EXPECT_EQ(ended, 1);
}

TEST_F(CallFlow, ByeFromTheBuyerHangsUpThePublisher) {
  start();
  buyer(0).listener->on_answered(200, "OK", {});
  buyer(0).listener->on_bye();
  EXPECT_TRUE(publisher->saw("bye"));
  EXPECT_FALSE(buyer(0).saw("bye"));  // the buyer hung up: nothing to send it
  publisher->listener->on_terminated();
  buyer(0).listener->on_terminated();
  ASSERT_EQ(cdrs.size(), 1u);
  EXPECT_EQ(cdr().hangup_side, "buyer");
  EXPECT_EQ(cdr().hangup_cause, "BYE");
}

TEST_F(CallFlow, CancelRacingTheBuyersAnswerAcksAndHangsUpTheBuyer) {
  start();
  buyer(0).listener->on_provisional(180, {});
  publisher->listener->on_cancelled();  // nua already sent 200 CANCEL and 487 INVITE
  EXPECT_TRUE(buyer(0).saw("cancel"));
  EXPECT_EQ(buyer(0).cancel_reason, "");  // the caller hung up: nothing completed elsewhere
  // The buyer's 200 crossed our CANCEL.
  buyer(0).listener->on_answered(200, "OK", {});
  EXPECT_TRUE(buyer(0).saw("ack"));
  EXPECT_TRUE(buyer(0).saw("bye"));
  EXPECT_FALSE(publisher->saw("respond 200"));
  publisher->listener->on_terminated();
  EXPECT_EQ(call->state(), CallState::ending);  // waits for the buyer leg
  buyer(0).listener->on_terminated();
  EXPECT_EQ(call->state(), CallState::ended);
  ASSERT_EQ(cdrs.size(), 1u);
  EXPECT_EQ(cdr().final_status, 487);
  EXPECT_EQ(cdr().hangup_cause, "CANCEL");
  EXPECT_EQ(ledger.in_progress("b1"), 0);
  // The answer nobody took is not a connection: the buyer's caps and the
  // call's record do not count it.
  const routing::TimePoint now{std::chrono::milliseconds(clock.now_ms())};
  EXPECT_EQ(ledger.connected_today("b1", now, date::locate_zone("UTC")), 0);
  EXPECT_FALSE(cdr().buyer_id.has_value());
}

TEST_F(CallFlow, ThePublisherHearsRingingOnceAndEveryNewEarlyMedia) {
  start();
  buyer(0).listener->on_provisional(180, {});
  buyer(0).listener->on_provisional(180, {});                          // ringing again: not relayed
  buyer(0).listener->on_provisional(183, {"application/sdp", "early a"});  // early media after ringing
  buyer(0).listener->on_provisional(183, {"application/sdp", "early a"});  // the same media again: not relayed
  EXPECT_EQ(publisher->count("respond 18"), 2);
  buyer(0).listener->on_failed(486, "Busy Here");
  ASSERT_EQ(buyer_legs.size(), 2u);
  buyer(1).listener->on_provisional(180, {});
  EXPECT_EQ(publisher->count("respond 18"), 2);
  buyer(1).listener->on_provisional(183, {"application/sdp", "early b"});  // the next buyer's early media
  EXPECT_EQ(publisher->count("respond 18"), 3);
  EXPECT_EQ(call->state(), CallState::early);
  buyer(1).listener->on_answered(200, "OK", {});
  EXPECT_TRUE(publisher->saw("respond 200"));
}

TEST_F(CallFlow, AFirstBuyerFailingBeforeAnyRingingGivesThePublisherLocalRinging) {
  start();
  EXPECT_EQ(publisher->count("respond 18"), 0);
  buyer(0).listener->on_failed(503, "Service Unavailable");
  EXPECT_TRUE(publisher->saw("respond 180"));
  EXPECT_EQ(call->state(), CallState::early);
  ASSERT_EQ(buyer_legs.size(), 2u);
  buyer(1).listener->on_provisional(180, {});
  EXPECT_EQ(publisher->count("respond 18"), 1);  // already ringing
}

TEST_F(CallFlow, ADelayedOfferIsAnsweredInThePublishersAckWhichCompletesTheBuyersAck) {
  start({});
  buyer(0).listener->on_answered(200, "OK", {"application/sdp", "buyer offer"});
  EXPECT_FALSE(buyer(0).saw("ack"));  // the answer is the publisher's to give
  EXPECT_TRUE(publisher->saw("respond 200"));
  publisher->listener->on_ack({"application/sdp", "publisher answer"});
  EXPECT_TRUE(buyer(0).saw("ack publisher answer"));
}

TEST_F(CallFlow, ABuyersReinviteWithoutSdpGetsThePublishersOfferAndTheBuyersAnswerInTheAck) {
  start();
  buyer(0).listener->on_answered(200, "OK", {"application/sdp", "buyer answer"});
  publisher->listener->on_ack({});
  buyer(0).listener->on_request(InDialogMethod::reinvite, {});
  EXPECT_TRUE(publisher->saw("send re-INVITE"));
  publisher->listener->on_request_answered(InDialogMethod::reinvite, 200, {"application/sdp", "publisher offer"});
  EXPECT_TRUE(buyer(0).saw("answer re-INVITE 200"));
  buyer(0).listener->on_ack({"application/sdp", "buyer answer 2"});
  EXPECT_TRUE(publisher->saw("ack buyer answer 2"));
}

TEST_F(CallFlow, FailoverAfterEarlyMediaResynchronisesThePublisherWithTheAnsweringBuyer) {
  start();
  buyer(0).listener->on_provisional(183, {"application/sdp", "early a"});
  buyer(0).listener->on_failed(480, "Temporarily Unavailable");
  buyer(1).listener->on_answered(200, "OK", {"application/sdp", "answer b"});
  EXPECT_FALSE(publisher->saw("send re-INVITE"));  // not before the publisher's ACK
  publisher->listener->on_ack({});
  EXPECT_TRUE(publisher->saw("send re-INVITE"));
  // A peer's re-INVITE meanwhile is glare.
  buyer(1).listener->on_request(InDialogMethod::reinvite, {"application/sdp", "x"});
  EXPECT_TRUE(buyer(1).saw("answer re-INVITE 491"));
  publisher->listener->on_request_answered(InDialogMethod::reinvite, 200, {"application/sdp", "fresh offer"});
  EXPECT_TRUE(buyer(1).saw("send re-INVITE"));
  buyer(1).listener->on_request_answered(InDialogMethod::reinvite, 200, {"application/sdp", "answer b2"});
  EXPECT_TRUE(publisher->saw("ack answer b2"));
}

TEST_F(CallFlow, NoResyncWhenTheEarlyMediaWasTheAnsweringBuyersOwn) {
  start();
  buyer(0).listener->on_provisional(183, {"application/sdp", "answer a"});
  buyer(0).listener->on_answered(200, "OK", {"application/sdp", "answer a"});
  publisher->listener->on_ack({});
  EXPECT_FALSE(publisher->saw("send re-INVITE"));
}

TEST_F(CallFlow, ConnectTimeoutMovesOnAndALate200FromTheAbandonedBuyerIsAckedAndHungUp) {
  start();
  clock.advance(5s);  // b1's connect timeout: no 18x
  EXPECT_TRUE(buyer(0).saw("cancel"));
  EXPECT_EQ(buyer(0).cancel_reason, "SIP;cause=200;text=\"Call completed elsewhere\"");
  ASSERT_EQ(buyer_legs.size(), 2u);
  EXPECT_EQ(buyer(1).target, "sip:b2@pbx.example.com");
  EXPECT_EQ(ledger.in_progress("b1"), 0);
  // b1 answers after all: nobody to connect it to.
  buyer(0).listener->on_answered(200, "OK", {});
  EXPECT_TRUE(buyer(0).saw("ack"));
  EXPECT_TRUE(buyer(0).saw("bye"));
  EXPECT_FALSE(publisher->saw("respond 200"));
  // b2 takes the call.
  buyer(1).listener->on_answered(200, "OK", {});
  EXPECT_TRUE(publisher->saw("respond 200"));
  publisher->listener->on_bye();
  buyer(1).listener->on_terminated();
  publisher->listener->on_terminated();
  ASSERT_EQ(cdrs.size(), 1u);
  ASSERT_EQ(cdr().attempts.size(), 2u);
  EXPECT_EQ(cdr().attempts[0].reason, "connect timeout");
  EXPECT_FALSE(cdr().attempts[0].status.has_value());
  EXPECT_EQ(cdr().buyer_id, "b2");
}

TEST_F(CallFlow, RingTimeoutMovesOnEvenAfterAn18x) {
  start();
  buyer(0).listener->on_provisional(180, {});
  clock.advance(29s);
  EXPECT_EQ(buyer_legs.size(), 1u);
  clock.advance(1s);
  EXPECT_TRUE(buyer(0).saw("cancel"));
  ASSERT_EQ(buyer_legs.size(), 2u);
}

TEST_F(CallFlow, EveryBuyerBusyGives486) {
  start();
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(buyer_legs.size(), i + 1);
    buyer(i).listener->on_failed(i == 1 ? 600 : 486, "Busy");
  }
  EXPECT_TRUE(publisher->saw("respond 486"));
  publisher->listener->on_terminated();
  ASSERT_EQ(cdrs.size(), 1u);
  EXPECT_EQ(cdr().final_status, 486);
  EXPECT_EQ(cdr().hangup_side, "gateway");
  EXPECT_EQ(cdr().hangup_cause, "buyer_status");
  EXPECT_EQ(cdr().attempts.size(), 3u);
  EXPECT_EQ(clock.pending(), 0u);  // no timer outlives its attempt
}

TEST_F(CallFlow, AnyOtherFailureAmongThemGives480) {
  start();
  buyer(0).listener->on_failed(486, "Busy Here");
  buyer(1).listener->on_failed(503, "Service Unavailable");
  buyer(2).listener->on_failed(486, "Busy Here");
  EXPECT_TRUE(publisher->saw("respond 480"));
}

TEST_F(CallFlow, ReinviteGlareGets491) {
  start();
  buyer(0).listener->on_answered(200, "OK", {});
  publisher->listener->on_request(InDialogMethod::reinvite, {"application/sdp", "v=0 hold"});
  EXPECT_TRUE(buyer(0).saw("send re-INVITE"));
  // The buyer's own re-INVITE crosses ours.
  buyer(0).listener->on_request(InDialogMethod::reinvite, {"application/sdp", "v=0 x"});
  EXPECT_TRUE(buyer(0).saw("answer re-INVITE 491"));
  EXPECT_FALSE(publisher->saw("send re-INVITE"));
  // The buyer answers ours: relayed back to the publisher.
  buyer(0).listener->on_request_answered(InDialogMethod::reinvite, 200, {"application/sdp", "v=0 ok"});
  EXPECT_TRUE(publisher->saw("answer re-INVITE 200"));
}

TEST_F(CallFlow, InfoIsRelayedBothWays) {
  start();
  buyer(0).listener->on_answered(200, "OK", {});
  publisher->listener->on_request(InDialogMethod::info, {"application/dtmf-relay", "Signal=5"});
  EXPECT_TRUE(buyer(0).saw("send INFO"));
  buyer(0).listener->on_request_answered(InDialogMethod::info, 200, {});
  EXPECT_TRUE(publisher->saw("answer INFO 200"));
}

TEST_F(CallFlow, ABuyerChallengeIsAnsweredOnceAndASecondOneFailsTheAttempt) {
  snapshot->buyers["b1"].auth_user = "u";
  snapshot->buyers["b1"].auth_password = "p:w";
  start();
  buyer(0).listener->on_challenged(401);
  EXPECT_TRUE(buyer(0).saw("authenticate"));
  EXPECT_EQ(buyer_legs.size(), 1u);
  buyer(0).listener->on_challenged(401);  // wrong credentials
  ASSERT_EQ(buyer_legs.size(), 2u);       // next buyer
  EXPECT_EQ(buyer(0).count("authenticate"), 1);
}

TEST_F(CallFlow, DrainHangsUpWhatIsLeft) {
  start();
  buyer(0).listener->on_answered(200, "OK", {});
  call->hang_up_for_drain();
  EXPECT_TRUE(buyer(0).saw("bye"));
  EXPECT_TRUE(publisher->saw("bye"));
  buyer(0).listener->on_terminated();
  publisher->listener->on_terminated();
  ASSERT_EQ(cdrs.size(), 1u);
  EXPECT_EQ(cdr().hangup_side, "gateway");
  EXPECT_EQ(cdr().hangup_cause, "drain");
}

TEST_F(CallFlow, APublisherThatVanishesTakesTheRingingBuyerWithIt) {
  start();
  buyer(0).listener->on_provisional(180, {});
  publisher->listener->on_terminated();
  EXPECT_TRUE(buyer(0).saw("cancel"));
  buyer(0).listener->on_failed(487, "Request Terminated");
  ASSERT_EQ(cdrs.size(), 1u);
  EXPECT_EQ(cdr().hangup_cause, "terminated");
  EXPECT_EQ(buyer_legs.size(), 1u);  // no failover once the publisher is gone
}

TEST_F(CallFlow, MaxDurationHangsUpBothLegsAtTheLimitWithoutWaitingForThem) {
  snapshot->campaigns.at("c").max_duration_seconds = 60;
  start();
  buyer(0).listener->on_answered(200, "OK", {});
  clock.advance(59s);
  EXPECT_FALSE(buyer(0).saw("bye"));
  clock.advance(1s);
  EXPECT_TRUE(buyer(0).saw("bye"));
  EXPECT_TRUE(publisher->saw("bye"));
  // Neither peer answers the BYE (the publisher vanished): the call is over
  // all the same, its CDR written and both slots free.
  EXPECT_EQ(call->state(), CallState::ended);
  ASSERT_EQ(cdrs.size(), 1u);
  EXPECT_EQ(cdr().hangup_side, "gateway");
  EXPECT_EQ(cdr().hangup_cause, "max_duration");
  EXPECT_EQ(cdr().end_at - *cdr().answer_at, 60'000);
  EXPECT_EQ(ledger.in_progress("b1"), 0);
  call.reset();
  EXPECT_EQ(ledger.publisher_calls("pub"), 0);
}

TEST_F(CallFlow, APublisherSessionThatExpiresEndsBothLegsAtOnceAndNamesThePublisher) {
  start();
  buyer(0).listener->on_answered(200, "OK", {});
  publisher->listener->on_session_expired();
  EXPECT_TRUE(publisher->saw("bye"));  // RFC 4028 10: the side that saw it expire sends BYE
  EXPECT_TRUE(buyer(0).saw("bye"));
  // The vanished publisher never answers: the call is over all the same.
  EXPECT_EQ(call->state(), CallState::ended);
  ASSERT_EQ(cdrs.size(), 1u);
  EXPECT_EQ(cdr().hangup_side, "publisher");
  EXPECT_EQ(cdr().hangup_cause, "session_expired");
  EXPECT_EQ(ledger.in_progress("b1"), 0);
  call.reset();
  EXPECT_EQ(ledger.publisher_calls("pub"), 0);
}

TEST_F(CallFlow, ABuyerSessionThatExpiresEndsBothLegsAndNamesTheBuyer) {
  start();
  buyer(0).listener->on_answered(200, "OK", {});
  buyer(0).listener->on_session_expired();
  EXPECT_TRUE(publisher->saw("bye"));
  EXPECT_TRUE(buyer(0).saw("bye"));
  EXPECT_EQ(call->state(), CallState::ended);
  ASSERT_EQ(cdrs.size(), 1u);
  EXPECT_EQ(cdr().hangup_side, "buyer");
  EXPECT_EQ(cdr().hangup_cause, "session_expired");
  EXPECT_EQ(ledger.in_progress("b1"), 0);
  // The BYE that crosses it later changes nothing.
  publisher->listener->on_bye();
  EXPECT_EQ(cdrs.size(), 1u);
}

TEST_F(CallFlow, TheSettingLimitsCallsOfCampaignsThatSayNothingAndZeroMeansNoLimit) {
  snapshot->settings.max_call_duration_seconds = 10;
  start();
  buyer(0).listener->on_answered(200, "OK", {});
  clock.advance(10s);
  EXPECT_TRUE(buyer(0).saw("bye"));

  snapshot->campaigns.at("c").max_duration_seconds = 0;
  buyer_legs.clear();
  start();
  buyer(0).listener->on_answered(200, "OK", {});
  clock.advance(std::chrono::hours(24));
  EXPECT_FALSE(buyer(0).saw("bye"));
  EXPECT_EQ(call->state(), CallState::connected);
}

TEST_F(CallFlow, ThePublisherNeverWaitsLongerThanMaxSetupAcrossFailovers) {
  snapshot->settings.max_setup_seconds = 12;
  start();
  clock.advance(5s);  // b1: connect timeout
  ASSERT_EQ(buyer_legs.size(), 2u);
  buyer(1).listener->on_provisional(180, {});
  clock.advance(6s);
  EXPECT_FALSE(publisher->saw("respond 480"));
  clock.advance(1s);  // 12 s since the INVITE
  EXPECT_TRUE(publisher->saw("respond 480"));
  EXPECT_TRUE(buyer(1).saw("cancel"));
  ASSERT_EQ(cdrs.size(), 1u);
  EXPECT_EQ(cdr().final_status, 480);
  EXPECT_EQ(cdr().hangup_cause, "max_setup");
  EXPECT_EQ(cdr().attempts.size(), 2u);
  // The cancelled buyer's late 200 still gets ACK and BYE.
  buyer(1).listener->on_answered(200, "OK", {});
  EXPECT_TRUE(buyer(1).saw("ack"));
  EXPECT_TRUE(buyer(1).saw("bye"));
}

TEST_F(CallFlow, AnAnsweredCallDisarmsTheSetupLimit) {
  snapshot->settings.max_setup_seconds = 12;
  start();
  buyer(0).listener->on_answered(200, "OK", {});
  clock.advance(60s);
  EXPECT_EQ(call->state(), CallState::connected);
  EXPECT_FALSE(publisher->saw("respond 480"));
}

}  // namespace
}  // namespace sipgw::gateway
