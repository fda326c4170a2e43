#include "db/admin.h"
#include "db/schema.h"
#include "db/snapshot_loader.h"

#include "temp_db.h"

#include <date/tz.h>
#include <gtest/gtest.h>

namespace sipgw::db {
namespace {

using routing::AuthMode;
using test_support::TempDir;

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Connection::open(path_, Connection::Mode::read_write_create);
    ASSERT_TRUE(c);
    db_ = std::move(*c);
    ASSERT_TRUE(migrate(db_));
  }

  void ok(const AdminResult<void>& r) { ASSERT_TRUE(r) << r.error().message; }

  // Every provisioning table gets at least one row.
  void provision_everything() {
    Admin a(db_);
    ok(a.add_domain("SIP.Example.com", "digest", std::nullopt, "SHA-256,MD5"));
    ok(a.add_domain("ip.example.com", "ip", "ip-realm", std::nullopt));
    ok(a.add_domain("mixed.example.com", "digest-or-ip", std::nullopt, std::nullopt));
    ok(a.add_publisher("pub1", "Publisher One", std::nullopt));
    ok(a.add_publisher("pub2", "", CapChange{std::optional<std::int64_t>{5}}));
    ok(a.set_publisher_enabled("pub2", false));
    ok(a.add_credential("alice", "pub1", std::string("sip.example.com"), "s3cret"));
    ASSERT_TRUE(a.add_allowlist("192.0.2.0/24", "pub1", "office"));
    ASSERT_TRUE(a.add_allowlist("192.0.2.128/25", "pub2", ""));
    ASSERT_TRUE(a.add_allowlist("2001:db8::/32", "pub2", ""));
    ok(a.add_campaign("camp1", "Campaign", 45));
    ok(a.add_number("+18882223333", "camp1", std::nullopt));
    ok(a.add_number("+18882224444", "camp1", std::string("pub2")));
    ok(a.set_number_enabled("+18882224444", false));
    ok(a.set_trunk({"sip:carrier.example.com:5060", std::string("tu"), std::string("tp"), std::string("gw.example.com")}));
    BuyerChanges b1;
    b1.target = "sip:agentqueue@pbx.example.com";
    b1.auth_user = "bu";
    b1.auth_password = "bp";
    b1.headers = std::vector<std::string>{"X-Campaign-ID: [campaign_id]", "X-Static: 1"};
    b1.concurrency_cap = std::optional<std::int64_t>{3};
    b1.daily_cap = std::optional<std::int64_t>{100};
    b1.hourly_cap = std::optional<std::int64_t>{10};
    b1.hours = "mon-fri 09:00-17:00";
    b1.time_zone = "America/New_York";
    ok(a.add_buyer("b1", b1));
    BuyerChanges b2;
    b2.target = "+18885551234";
    ok(a.add_buyer("b2", b2));
    ok(a.add_route("camp1", "b2", 1, 1));
    ok(a.add_route("camp1", "b1", 0, 7));
    ok(a.set_setting("header.uuid", "X-Call-UUID"));
    ok(a.set_setting("nonce_lifetime", "120"));
  }

  TempDir dir_;
  std::string path_ = dir_.file("s.db");
  Connection db_;
};

TEST_F(SnapshotTest, LookupsReturnWhatWasProvisioned) {
  provision_everything();
  auto loaded = load_snapshot(db_, 7);
  ASSERT_TRUE(loaded) << loaded.error().message;
  const routing::Snapshot& s = **loaded;
  EXPECT_EQ(s.generation, 7u);

  auto* d = s.find_domain("sip.EXAMPLE.com");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->auth_mode, AuthMode::digest);
  EXPECT_EQ(d->realm, "sip.example.com");
  EXPECT_EQ(d->algorithms, (std::vector{auth::DigestAlgorithm::sha256, auth::DigestAlgorithm::md5}));
  EXPECT_EQ(s.find_domain("ip.example.com")->realm, "ip-realm");
  EXPECT_EQ(s.find_domain("mixed.example.com")->auth_mode, AuthMode::digest_or_ip);
  EXPECT_EQ(s.find_domain("evil.example.com"), nullptr);

  auto* c = s.find_credential("alice", "sip.example.com");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->publisher_id, "pub1");
  EXPECT_EQ(c->ha1_md5, auth::ha1(auth::DigestAlgorithm::md5, "alice", "sip.example.com", "s3cret"));
  EXPECT_EQ(c->ha1(auth::DigestAlgorithm::sha256),
            auth::ha1(auth::DigestAlgorithm::sha256, "alice", "sip.example.com", "s3cret"));
  EXPECT_EQ(s.find_credential("alice", "ip-realm"), nullptr);

  EXPECT_EQ(*s.publisher_for_source(*auth::parse_ip("192.0.2.1")), "pub1");
  EXPECT_EQ(*s.publisher_for_source(*auth::parse_ip("192.0.2.200")), "pub2");
  EXPECT_EQ(*s.publisher_for_source(*auth::parse_ip("2001:db8::9")), "pub2");
  EXPECT_EQ(s.publisher_for_source(*auth::parse_ip("198.51.100.1")), nullptr);

  EXPECT_TRUE(s.find_publisher("pub1")->enabled);
  EXPECT_FALSE(s.find_publisher("pub2")->enabled);
  EXPECT_EQ(s.find_publisher("pub2")->concurrency_cap, 5);

  auto* n = s.find_number("+18882223333");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->campaign_id, "camp1");
  EXPECT_FALSE(n->publisher_id);
  EXPECT_TRUE(n->enabled);
  EXPECT_EQ(s.find_number("+18882224444")->publisher_id, "pub2");
  EXPECT_FALSE(s.find_number("+18882224444")->enabled);

  auto* camp = s.find_campaign("camp1");
  ASSERT_NE(camp, nullptr);
  EXPECT_EQ(camp->ring_timeout_seconds, 45);
  ASSERT_EQ(camp->routes.size(), 2u);
  EXPECT_EQ(camp->routes[0].buyer_id, "b1");
  EXPECT_EQ(camp->routes[0].weight, 7);
  EXPECT_EQ(camp->routes[1].buyer_id, "b2");

  auto* b1 = s.find_buyer("b1");
  ASSERT_NE(b1, nullptr);
  EXPECT_EQ(b1->target_kind, routing::TargetKind::sip_uri);
  EXPECT_EQ(b1->auth_user, "bu");
  EXPECT_EQ(b1->auth_password, "bp");
  EXPECT_EQ(b1->concurrency_cap, 3);
  EXPECT_EQ(b1->hourly_cap, 10);
  EXPECT_EQ(b1->daily_cap, 100);
  ASSERT_NE(b1->time_zone, nullptr);
  EXPECT_EQ(b1->time_zone->name(), "America/New_York");
  EXPECT_FALSE(b1->hours.is_always_open());
  EXPECT_TRUE(b1->hours.is_open(1, 9 * 60));
  ASSERT_EQ(b1->headers.size(), 2u);
  EXPECT_EQ(b1->headers[0].name, "X-Campaign-ID");
  EXPECT_EQ(b1->headers[0].value, "[campaign_id]");
  EXPECT_EQ(s.find_buyer("b2")->target_kind, routing::TargetKind::pstn);
  EXPECT_TRUE(s.find_buyer("b2")->hours.is_always_open());

  ASSERT_TRUE(s.trunk);
  EXPECT_EQ(s.trunk->proxy, "sip:carrier.example.com:5060");
  EXPECT_EQ(s.trunk->auth_user, "tu");
  EXPECT_EQ(s.trunk->from_domain, "gw.example.com");

  EXPECT_EQ(s.settings.header_uuid, "X-Call-UUID");
  EXPECT_EQ(s.settings.header_key, "X-PH-RetreaverKey");
  EXPECT_EQ(s.settings.nonce_lifetime_seconds, 120);
}

TEST_F(SnapshotTest, ScreeningRulesAndBlockListsLoad) {
  provision_everything();
  Admin a(db_);
  PublisherChanges p;
  p.hourly_cap = std::optional<std::int64_t>{10};
  p.daily_cap = std::optional<std::int64_t>{50};
  p.cps = std::optional<std::int64_t>{3};
  p.caller_from = "pai";
  ok(a.update_publisher("pub1", p));
  ScreeningChanges sc;
  sc.repeat_window = std::optional<std::int64_t>{86400};
  sc.repeat_after = "connected";
  sc.repeat_route = std::optional<std::string>{"b2"};
  sc.min_attestation = "b";
  ok(a.update_campaign("camp1", std::nullopt, std::nullopt, {}, sc));
  BuyerChanges strip;
  strip.pass_identity = false;
  strip.pass_asserted_identity = true;
  ok(a.update_buyer("b2", strip));
  ok(a.set_nonce_secret(std::string(64, 'a'), 1));
  ok(a.set_nonce_secret(std::string(64, 'B'), 2));
  ASSERT_TRUE(a.add_block("+15551234567", std::nullopt, "", 1));
  ASSERT_TRUE(a.add_block("+1900*", std::string("camp1"), "", 1));
  ASSERT_TRUE(a.add_block("anonymous", std::string("camp1"), "", 1));

  auto loaded = load_snapshot(db_, 1);
  ASSERT_TRUE(loaded);
  const auto& s = **loaded;
  const auto* pub = s.find_publisher("pub1");
  ASSERT_TRUE(pub);
  EXPECT_EQ(pub->hourly_cap, 10);
  EXPECT_EQ(pub->daily_cap, 50);
  EXPECT_EQ(pub->cps, 3);
  EXPECT_TRUE(pub->trust_asserted_identity);
  EXPECT_FALSE(s.find_publisher("pub2")->trust_asserted_identity);
  const auto& rules = s.find_campaign("camp1")->screening;
  EXPECT_EQ(rules.repeat_window_seconds, 86400);
  EXPECT_EQ(rules.repeat_after, routing::RepeatAfter::connected);
  EXPECT_EQ(rules.repeat_route, "b2");
  EXPECT_EQ(rules.min_attestation, auth::Attestation::B);
  EXPECT_TRUE(s.find_buyer("b1")->pass_identity);
  EXPECT_FALSE(s.find_buyer("b2")->pass_identity);
  EXPECT_FALSE(s.find_buyer("b1")->pass_asserted_identity);
  EXPECT_TRUE(s.find_buyer("b2")->pass_asserted_identity);
  // The current nonce secret first (stored lower case), then the one it replaced.
  EXPECT_EQ(s.nonce_secrets, (std::vector<std::string>{std::string(64, 'b'), std::string(64, 'a')}));
  EXPECT_EQ(s.blocks.size(), 3u);
  EXPECT_EQ(s.blocks.match("other", auth::parse_caller_number("+15551234567")), routing::ScreenReason::blocked_number);
  EXPECT_EQ(s.blocks.match("camp1", auth::parse_caller_number("+19005550000")), routing::ScreenReason::blocked_number);
  EXPECT_FALSE(s.blocks.match("other", auth::parse_caller_number("+19005550000")));
  EXPECT_EQ(s.blocks.match("camp1", std::nullopt), routing::ScreenReason::anonymous);

  // Cleared again: none / back to defaults.
  ScreeningChanges clear;
  clear.repeat_window = std::optional<std::int64_t>{};
  clear.repeat_route = std::optional<std::string>{};
  clear.min_attestation = "none";
  ok(a.update_campaign("camp1", std::nullopt, std::nullopt, {}, clear));
  auto reloaded = load_snapshot(db_, 2);
  ASSERT_TRUE(reloaded);
  const auto& cleared = (*reloaded)->find_campaign("camp1")->screening;
  EXPECT_FALSE(cleared.repeat_window_seconds);
  EXPECT_FALSE(cleared.repeat_route);
  EXPECT_EQ(cleared.min_attestation, auth::Attestation::none);
}

TEST_F(SnapshotTest, EmptyDatabaseGivesEmptySnapshot) {
  auto loaded = load_snapshot(db_, 1);
  ASSERT_TRUE(loaded);
  EXPECT_TRUE((*loaded)->domains.empty());
  EXPECT_EQ((*loaded)->allowlist.size(), 0u);
  EXPECT_FALSE((*loaded)->trunk);
}

TEST_F(SnapshotTest, ChangeDetectorSeesAnotherConnectionsWrite) {
  auto watcher_connection = Connection::open(path_, Connection::Mode::read_only);
  ASSERT_TRUE(watcher_connection);
  ChangeDetector detector(*watcher_connection);
  ASSERT_TRUE(detector.changed().value());  // baseline
  EXPECT_FALSE(detector.changed().value());
  EXPECT_FALSE(detector.changed().value());

  Admin a(db_);
  ok(a.add_publisher("late", "", std::nullopt));
  EXPECT_TRUE(detector.changed().value());
  EXPECT_FALSE(detector.changed().value());

  auto reloaded = load_snapshot(*watcher_connection, 2);
  ASSERT_TRUE(reloaded);
  EXPECT_NE((*reloaded)->find_publisher("late"), nullptr);
}

}  // namespace
}  // namespace sipgw::db
