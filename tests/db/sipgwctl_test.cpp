// sipgwctl through the real binary on temporary databases: every verb, the
// JSON output parsed back, and every bad input refused with exit 1, one line
// on stderr and the database byte-for-byte unchanged.
#include "auth/digest.h"
#include "db/sqlite.h"

#include "temp_db.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <sys/wait.h>

namespace sipgw {
namespace {

using test_support::TempDir;

struct CtlRun {
  int exit_code;
  std::string out;
  std::string err;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Ctl : public ::testing::Test {
 protected:
  CtlRun ctl(std::vector<std::string> args, const std::string& input = "", const std::string& env = "") {
    std::string cmd = env + " " + quote(SIPGWCTL_PATH) + " --db " + quote(db_);
    for (auto& a : args) cmd += " " + quote(a);
    std::ofstream(dir_.file("in")) << input;
    cmd += " < " + quote(dir_.file("in")) + " > " + quote(dir_.file("out")) + " 2> " + quote(dir_.file("err"));
    int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir_.file("out")), slurp(dir_.file("err"))};
  }

  void ok(std::vector<std::string> args, const std::string& input = "") {
    auto r = ctl(args, input);
    ASSERT_EQ(r.exit_code, 0) << args[0] << " " << (args.size() > 1 ? args[1] : "") << ": " << r.err;
  }

  nlohmann::json json(std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    auto r = ctl(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  }

  // The refusal contract: exit 1, one line naming the reason, nothing changed.
  void refused(std::vector<std::string> args, const std::string& reason, const std::string& input = "") {
    auto before = test_support::dump_database(db_);
    auto r = ctl(args, input);
    std::string what;
    for (auto& a : args) what += a + " ";
    EXPECT_EQ(r.exit_code, 1) << what << "stderr: " << r.err;
    EXPECT_NE(r.err.find(reason), std::string::npos) << what << "stderr: " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << "stderr: " << r.err;
    EXPECT_EQ(test_support::dump_database(db_), before) << what;
  }

  void SetUp() override { ok({"init"}); }

  void provision() {
    ok({"domain", "add", "sip.example.com", "--auth", "digest"});
    ok({"domain", "add", "ip.example.com", "--auth", "ip"});
    ok({"publisher", "add", "pub1", "--name", "Publisher One"});
    ok({"credential", "add", "alice", "--publisher", "pub1"}, "s3cret-pw\n");
    ok({"allowlist", "add", "192.0.2.0/24", "--publisher", "pub1", "--note", "office"});
    ok({"campaign", "add", "camp1", "--name", "Camp", "--ring-timeout", "20"});
    ok({"number", "add", "+18882223333", "--campaign", "camp1"});
    ok({"buyer", "add", "b1", "--target", "sip:agent@pbx.example.com", "--header", "X-Campaign-ID: [campaign_id]",
        "--concurrency", "3", "--daily-cap", "10", "--hours", "mon-fri 09:00-17:00", "--tz", "America/New_York"});
    ok({"route", "add", "--campaign", "camp1", "--buyer", "b1", "--priority", "1", "--weight", "5"});
  }

  TempDir dir_;
  std::string db_ = dir_.file("ctl.db");
};

TEST_F(Ctl, HelpListsEveryNoun) {
  auto r = ctl({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* noun : {"init", "domain", "publisher", "credential", "allowlist", "campaign", "number", "buyer",
                           "route", "trunk", "setting", "calls", "ban", "block", "postback"}) {
    EXPECT_NE(r.out.find(std::string("  ") + noun + " "), std::string::npos) << noun;
  }
}

TEST_F(Ctl, InitIsIdempotent) {
  auto before = test_support::dump_database(db_);
  auto r = ctl({"init"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("0 migration"), std::string::npos) << r.out;
  EXPECT_EQ(test_support::dump_database(db_), before);
}

TEST_F(Ctl, DomainsPublishersAndJson) {
  provision();
  ok({"domain", "add", "sha.example.com", "--auth", "digest-or-ip", "--realm", "sha", "--algorithms", "SHA-256"});
  auto domains = json({"domain", "list"});
  ASSERT_EQ(domains.size(), 3u);
  EXPECT_EQ(domains[0]["name"], "ip.example.com");
  EXPECT_EQ(domains[1]["algorithms"], "SHA-256");
  EXPECT_EQ(domains[1]["auth_mode"], "digest-or-ip");
  EXPECT_EQ(domains[1]["realm"], "sha");
  EXPECT_EQ(domains[2]["algorithms"], "MD5,SHA-256");  // MD5 first: what SIPp and most clients speak
  ok({"domain", "update", "sha.example.com", "--algorithms", "MD5"});
  EXPECT_EQ(json({"domain", "list"})[1]["algorithms"], "MD5");
  ok({"domain", "remove", "sha.example.com"});
  EXPECT_EQ(json({"domain", "list"}).size(), 2u);

  ok({"publisher", "disable", "pub1"});
  auto pubs = json({"publisher", "list"});
  ASSERT_EQ(pubs.size(), 1u);
  EXPECT_EQ(pubs[0]["id"], "pub1");
  EXPECT_EQ(pubs[0]["name"], "Publisher One");
  EXPECT_EQ(pubs[0]["enabled"], false);
  ok({"publisher", "enable", "pub1"});
  EXPECT_EQ(json({"publisher", "list"})[0]["enabled"], true);
  ok({"publisher", "add", "spare"});
  ok({"publisher", "remove", "spare"});
  EXPECT_EQ(json({"publisher", "list"}).size(), 1u);
}

TEST_F(Ctl, CredentialsStoreHa1OnlyAndPasswdChangesIt) {
  provision();
  auto creds = json({"credential", "list", "--publisher", "pub1"});
  ASSERT_EQ(creds.size(), 1u);
  EXPECT_EQ(creds[0]["username"], "alice");
  EXPECT_EQ(creds[0]["realm"], "sip.example.com");
  EXPECT_FALSE(creds[0].contains("ha1_md5"));
  auto dump = test_support::dump_database(db_);
  EXPECT_EQ(dump.find("s3cret-pw"), std::string::npos);
  EXPECT_NE(dump.find(auth::ha1(auth::DigestAlgorithm::md5, "alice", "sip.example.com", "s3cret-pw")), std::string::npos);
  EXPECT_NE(dump.find(auth::ha1(auth::DigestAlgorithm::sha256, "alice", "sip.example.com", "s3cret-pw")), std::string::npos);

  ok({"credential", "passwd", "alice"}, "n3w-pw\n");
  dump = test_support::dump_database(db_);
  EXPECT_NE(dump.find(auth::ha1(auth::DigestAlgorithm::md5, "alice", "sip.example.com", "n3w-pw")), std::string::npos);
  EXPECT_EQ(dump.find(auth::ha1(auth::DigestAlgorithm::md5, "alice", "sip.example.com", "s3cret-pw")), std::string::npos);
  ok({"credential", "remove", "alice"});
  EXPECT_TRUE(json({"credential", "list"}).empty());
}

TEST_F(Ctl, AllowlistAddListCheckRemove) {
  provision();
  auto added = ctl({"allowlist", "add", "2001:DB8::/32", "--publisher", "pub1"});
  EXPECT_EQ(added.exit_code, 0);
  EXPECT_NE(added.out.find("2001:db8::/32"), std::string::npos) << added.out;
  ok({"allowlist", "add", "192.0.2.7", "--publisher", "pub1", "--note", "host"});
  auto list = json({"allowlist", "list"});
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0]["cidr"], "192.0.2.0/24");
  EXPECT_EQ(list[0]["note"], "office");
  EXPECT_EQ(list[1]["cidr"], "192.0.2.7/32");

  auto check = json({"allowlist", "check", "192.0.2.7"});
  EXPECT_EQ(check["cidr"], "192.0.2.7/32");
  EXPECT_EQ(check["publisher_id"], "pub1");
  EXPECT_EQ(json({"allowlist", "check", "::ffff:192.0.2.9"})["cidr"], "192.0.2.0/24");
  auto text = ctl({"allowlist", "check", "2001:db8::1"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_EQ(text.out, "pub1 (2001:db8::/32)\n");
  auto none = ctl({"allowlist", "check", "198.51.100.1"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("matches no allowlist entry"), std::string::npos);

  ok({"allowlist", "remove", "192.0.2.7/32"});
  EXPECT_EQ(json({"allowlist", "list"}).size(), 2u);
}

TEST_F(Ctl, CampaignsNumbersRoutes) {
  provision();
  auto camps = json({"campaign", "list"});
  ASSERT_EQ(camps.size(), 1u);
  EXPECT_EQ(camps[0]["ring_timeout"], 20);
  ok({"number", "add", "+18882224444", "--campaign", "camp1", "--publisher", "pub1"});
  ok({"number", "disable", "+18882224444"});
  auto numbers = json({"number", "list", "--campaign", "camp1"});
  ASSERT_EQ(numbers.size(), 2u);
  EXPECT_EQ(numbers[1]["publisher_id"], "pub1");
  EXPECT_EQ(numbers[1]["enabled"], false);
  EXPECT_TRUE(numbers[0]["publisher_id"].is_null());
  ok({"number", "enable", "+18882224444"});
  ok({"number", "remove", "+18882224444"});
  auto routes = json({"route", "list"});
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0]["buyer_id"], "b1");
  EXPECT_EQ(routes[0]["priority"], 1);
  EXPECT_EQ(routes[0]["weight"], 5);
  ok({"route", "remove", "--campaign", "camp1", "--buyer", "b1"});
  EXPECT_TRUE(json({"route", "list"}).empty());
  ok({"number", "remove", "+18882223333"});
  ok({"campaign", "remove", "camp1"});
  EXPECT_TRUE(json({"campaign", "list"}).empty());
}

TEST_F(Ctl, BuyersShowCapsHoursAndNeverPasswords) {
  provision();
  ok({"buyer", "update", "b1", "--auth-user", "bu", "--auth-password-stdin", "--hourly-cap", "4"}, "buyer-pw\n");
  auto b = json({"buyer", "show", "b1"});
  EXPECT_EQ(b["target"], "sip:agent@pbx.example.com");
  EXPECT_EQ(b["auth_user"], "bu");
  EXPECT_EQ(b["has_auth_password"], true);
  EXPECT_EQ(b["concurrency_cap"], 3);
  EXPECT_EQ(b["hourly_cap"], 4);
  EXPECT_EQ(b["daily_cap"], 10);
  EXPECT_EQ(b["hours"], "mon-fri 09:00-17:00");
  EXPECT_EQ(b["time_zone"], "America/New_York");
  EXPECT_EQ(b["calls_today"], 0);
  EXPECT_EQ(b["header.1"], "X-Campaign-ID: [campaign_id]");
  for (auto args : {std::vector<std::string>{"buyer", "show", "b1"}, std::vector<std::string>{"buyer", "list"},
                    std::vector<std::string>{"--json", "buyer", "list"}}) {
    auto r = ctl(args);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.find("buyer-pw"), std::string::npos);
  }
  ok({"buyer", "update", "b1", "--daily-cap", "none", "--clear-auth", "--clear-headers", "--disable"});
  b = json({"buyer", "show", "b1"});
  EXPECT_TRUE(b["daily_cap"].is_null());
  EXPECT_TRUE(b["auth_user"].is_null());
  EXPECT_EQ(b["has_auth_password"], false);
  EXPECT_FALSE(b.contains("header.1"));
  EXPECT_EQ(b["enabled"], false);
  ok({"buyer", "add", "b2", "--target", "sip:[number]@pbx2.example.com"});
  ok({"buyer", "remove", "b2"});
  EXPECT_EQ(json({"buyer", "list"}).size(), 1u);
}

TEST_F(Ctl, TrunkAndPstnBuyers) {
  provision();
  ok({"trunk", "set", "--proxy", "sip:carrier.example.com:5060", "--auth-user", "tu", "--auth-password-stdin",
      "--from-domain", "gw.example.com"},
     "trunk-pw\n");
  auto t = json({"trunk", "show"});
  EXPECT_EQ(t["proxy"], "sip:carrier.example.com:5060");
  EXPECT_EQ(t["auth_user"], "tu");
  EXPECT_EQ(t["has_auth_password"], true);
  EXPECT_EQ(t["from_domain"], "gw.example.com");
  EXPECT_EQ(ctl({"trunk", "show"}).out.find("trunk-pw"), std::string::npos);
  ok({"buyer", "add", "pstn", "--target", "+18885551234"});
  EXPECT_EQ(json({"buyer", "show", "pstn"})["target"], "+18885551234");
}

TEST_F(Ctl, SettingsListAndSet) {
  ok({"setting", "set", "header.uuid", "X-Call-UUID"});
  ok({"setting", "set", "nonce_lifetime", "60"});
  ok({"setting", "set", "front_end.addresses", "192.0.2.10, 2001:db8::/64"});
  auto s = json({"setting", "list"});
  std::map<std::string, std::string> values;
  for (auto& row : s) values[row["key"]] = row["value"];
  EXPECT_EQ(values["header.uuid"], "X-Call-UUID");
  EXPECT_EQ(values["header.key"], "X-PH-RetreaverKey");
  EXPECT_EQ(values["nonce_lifetime"], "60");
  EXPECT_EQ(values["front_end.addresses"], "192.0.2.10/32,2001:db8::/64");
  EXPECT_EQ(values["front_end.source_header"], "X-Sipgw-Source-IP");
}

// A row with bytes that are not UTF-8 (written before sipgw cleaned text at
// the edge, or by hand) must not abort sipgwctl: JSON gets U+FFFD, tables '?'.
TEST_F(Ctl, APoisonedCallRecordIsListedNotFatal) {
  {
    auto c = db::Connection::open(db_, db::Connection::Mode::read_write);
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->execute_script(
        "INSERT INTO calls (uuid, postback_key, caller, number, invite_at, final_status) VALUES "
        "('bad', 'k', CAST(X'2B3135FF1B5B326A0A' AS TEXT), '+18882223333', 1700000000000, 480);"
        "INSERT INTO call_attempts VALUES ('bad', 1, 'b1', 'sip:b1@h', 480, CAST(X'4E6FC328' AS TEXT), 1700000000000, "
        "NULL, 1700000000500);"));
  }
  for (auto args : std::vector<std::vector<std::string>>{{"--json", "calls", "list"}, {"--json", "calls", "show", "bad"}}) {
    auto r = ctl(args);
    ASSERT_EQ(r.exit_code, 0) << args[1] << " " << args[2] << ": " << r.err;
    auto j = nlohmann::json::parse(r.out);
    const auto& row = j.is_array() ? j[0] : j;
    EXPECT_EQ(row["caller"], "+15\xef\xbf\xbd\x1b[2j\n");  // 0xFF became U+FFFD; JSON escapes the rest
  }
  auto table = ctl({"calls", "show", "bad"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("+15?[2j"), std::string::npos) << table.out;  // no ESC, no newline reaches the terminal
  EXPECT_NE(table.out.find("No?("), std::string::npos) << table.out;
}

TEST_F(Ctl, BansAreAddedListedAndLiftedAndNeverShadowTheAllowlistSilently) {
  provision();  // 192.0.2.0/24 allowlisted for pub1
  ok({"ban", "add", "198.51.100.7", "--seconds", "600", "--note", "scanner"});
  ok({"ban", "add", "2001:db8::/48"});
  auto bans = json({"ban", "list"});
  ASSERT_EQ(bans.size(), 2u);
  std::map<std::string, nlohmann::json> by_cidr;
  for (auto& b : bans) by_cidr[b["cidr"]] = b;
  EXPECT_EQ(by_cidr["198.51.100.7/32"]["origin"], "manual");
  EXPECT_EQ(by_cidr["198.51.100.7/32"]["note"], "scanner");
  EXPECT_EQ(by_cidr["198.51.100.7/32"]["expires_at"].get<std::int64_t>() -
                by_cidr["198.51.100.7/32"]["created_at"].get<std::int64_t>(),
            600'000);
  EXPECT_TRUE(by_cidr["2001:db8::/48"]["expires_at"].is_null());  // until removed
  refused({"ban", "add", "192.0.0.0/16"}, "would shadow allowlist entry 192.0.2.0/24 (publisher pub1)");
  refused({"ban", "add", "192.0.2.9"}, "would shadow allowlist entry 192.0.2.0/24");
  refused({"ban", "add", "198.51.100.0/33"}, "198.51.100.0/33");
  refused({"ban", "add", "198.51.100.8", "--seconds", "soon"}, "--seconds: 'soon' is not a whole number of seconds");
  refused({"ban", "add", "198.51.100.8", "--seconds", "0"}, "ban seconds must be 1 to 315360000");
  refused({"ban", "remove", "203.0.113.1"}, "no ban 203.0.113.1/32");
  ok({"ban", "add", "192.0.2.9", "--override-allowlist"});
  ok({"ban", "remove", "198.51.100.7"});
  ok({"ban", "remove", "192.0.2.9/32"});
  bans = json({"ban", "list"});
  ASSERT_EQ(bans.size(), 1u);
  EXPECT_EQ(bans[0]["cidr"], "2001:db8::/48");
}

TEST_F(Ctl, TheNonceSecretIsSetFromStdinRotatesAndIsNeverShown) {
  const std::string first(64, 'a'), second = std::string(32, '0') + std::string(32, 'F');
  refused({"nonce-secret", "set"}, "64 hex characters", "abc\n");
  refused({"nonce-secret", "set"}, "64 hex characters", std::string(63, 'a') + "g\n");
  ok({"nonce-secret", "set"}, first + "\n");
  auto shown = json({"nonce-secret", "show"});
  ASSERT_EQ(shown.size(), 1u);
  EXPECT_EQ(shown[0]["slot"], "current");
  ok({"nonce-secret", "set"}, second + "\n");  // a rotation: the first stays as previous
  shown = json({"nonce-secret", "show"});
  ASSERT_EQ(shown.size(), 2u);
  EXPECT_EQ(shown[0]["slot"], "current");
  EXPECT_EQ(shown[1]["slot"], "previous");
  auto plain = ctl({"nonce-secret", "show"});
  EXPECT_EQ(plain.exit_code, 0);
  for (const auto& text : {plain.out, shown.dump()}) {
    EXPECT_EQ(text.find("aaaaaaaa"), std::string::npos) << text;
    EXPECT_EQ(text.find("ffffffff"), std::string::npos) << text;
    EXPECT_EQ(text.find("FFFFFFFF"), std::string::npos) << text;
  }
}

TEST_F(Ctl, CallsListAndShowReadCdrs) {
  {
    auto c = db::Connection::open(db_, db::Connection::Mode::read_write);
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->execute_script(
        "INSERT INTO calls (uuid, postback_key, publisher_id, sub_id, caller, number, campaign_id, buyer_id, attempts, "
        "invite_at, answer_at, end_at, final_status, hangup_side, hangup_cause) VALUES "
        "('u1', 'k1', 'pub1', 's1', '+15551230000', '+18882223333', 'camp1', 'b2', 2, 1700000000000, 1700000001000, "
        "1700000061000, 200, 'publisher', 'BYE'),"
        "('u2', 'k2', 'pub2', NULL, '+15551230001', '+18882223333', 'camp2', NULL, 1, 1700000100000, NULL, "
        "1700000101000, 486, 'buyer', 'busy');"
        "INSERT INTO call_attempts VALUES ('u1', 1, 'b1', 'sip:b1@h', 486, 'Busy Here', 1700000000000, NULL, 1700000000500),"
        "('u1', 2, 'b2', 'sip:b2@h', 200, 'OK', 1700000000500, 1700000001000, 1700000061000);"));
  }
  auto calls = json({"calls", "list"});
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0]["uuid"], "u2");  // newest first
  EXPECT_EQ(json({"calls", "list", "--limit", "1"}).size(), 1u);
  EXPECT_EQ(json({"calls", "list", "--campaign", "camp1"}).size(), 1u);
  EXPECT_EQ(json({"calls", "list", "--buyer", "b2"})[0]["uuid"], "u1");
  EXPECT_EQ(json({"calls", "list", "--publisher", "pub2"})[0]["uuid"], "u2");
  EXPECT_EQ(json({"calls", "list", "--since", "1700000050"}).size(), 1u);
  EXPECT_EQ(json({"calls", "list", "--until", "2023-11-14T22:14:00Z"}).size(), 1u);
  auto show = json({"calls", "show", "u1"});
  EXPECT_EQ(show["postback_key"], "k1");
  EXPECT_EQ(show["hangup_side"], "publisher");
  ASSERT_EQ(show["attempts"].size(), 2u);
  EXPECT_EQ(show["attempts"][0]["status"], 486);
  EXPECT_EQ(show["attempts"][1]["buyer_id"], "b2");
  auto text = ctl({"calls", "show", "u1"});
  EXPECT_NE(text.out.find("2023-11-14T22:13:20Z"), std::string::npos) << text.out;
}

TEST_F(Ctl, BadInputIsRefusedAndChangesNothing) {
  provision();
  ok({"trunk", "set", "--proxy", "sip:carrier.example.com"});
  refused({"allowlist", "add", "10.0.0.1/8", "--publisher", "pub1"}, "host bits set; did you mean 10.0.0.0/8?");
  refused({"allowlist", "add", "10.0.0.0/33", "--publisher", "pub1"}, "invalid prefix length");
  refused({"allowlist", "add", "example.com", "--publisher", "pub1"}, "not a CIDR");
  refused({"allowlist", "check", "1.2.3"}, "not an IP address");
  refused({"allowlist", "remove", "10.0.0.0/8"}, "no allowlist entry");
  refused({"number", "add", "18882225555", "--campaign", "camp1"}, "not an E.164 number");
  refused({"number", "add", "+0888222555", "--campaign", "camp1"}, "not an E.164 number");
  refused({"number", "add", "+18882225555", "--campaign", "nope"}, "unknown campaign 'nope'");
  refused({"number", "add", "+18882225555", "--campaign", "camp1", "--publisher", "ghost"}, "unknown publisher 'ghost'");
  refused({"allowlist", "add", "10.0.0.0/8", "--publisher", "ghost"}, "unknown publisher 'ghost'");
  refused({"credential", "add", "bob", "--publisher", "ghost"}, "unknown publisher 'ghost'", "pw\n");
  refused({"route", "add", "--campaign", "camp1", "--buyer", "ghost"}, "unknown buyer 'ghost'");
  refused({"route", "add", "--campaign", "ghost", "--buyer", "b1"}, "unknown campaign 'ghost'");
  refused({"publisher", "add", "pub1"}, "already exists");
  refused({"domain", "add", "sip.example.com", "--auth", "ip"}, "already exists");
  refused({"campaign", "add", "camp1"}, "already exists");
  refused({"number", "add", "+18882223333", "--campaign", "camp1"}, "already exists");
  refused({"buyer", "add", "b1", "--target", "sip:a@b"}, "already exists");
  refused({"allowlist", "add", "192.0.2.0/24", "--publisher", "pub1"}, "already exists");
  refused({"credential", "add", "alice", "--publisher", "pub1"}, "already exists", "pw\n");
  refused({"route", "add", "--campaign", "camp1", "--buyer", "b1"}, "already routes");
  refused({"credential", "add", "bob", "--publisher", "pub1"}, "password is empty", "\n");
  refused({"credential", "add", "bob", "--publisher", "pub1"}, "no password", "");
  refused({"credential", "passwd", "alice"}, "password is empty", "\n");
  refused({"buyer", "add", "b9", "--target", "sip:a@b", "--header", "X Bad: v"}, "not a SIP token");
  refused({"buyer", "add", "b9", "--target", "sip:a@b", "--header", "X-A: a\r\nVia: evil"}, "control character");
  refused({"buyer", "add", "b9", "--target", "sip:a@b", "--header", "X-A: a\x01"}, "control character");
  refused({"buyer", "add", "b9", "--target", "sip:a@b", "--header", "Call-ID: x"}, "set by sipgw itself");
  refused({"buyer", "add", "b9", "--target", "ftp://a"}, "neither a sip: URI nor an E.164 number");
  refused({"buyer", "add", "b9", "--target", "sips:a@b"}, "no TLS transport yet");
  refused({"buyer", "add", "b9", "--target", "sip:a@b;transport=tls"}, "no TLS transport yet");
  refused({"buyer", "add", "b9", "--target", "sip:[caller_id]@b"}, "unknown token [caller_id]; the tokens are");
  refused({"buyer", "add", "b9", "--target", "sip:a@b", "--header", "X-Caller: [caller_id]"}, "unknown token [caller_id]");
  refused({"buyer", "add", "b9", "--target", "sip:a@b", "--asserted-identity", "maybe"},
          "--asserted-identity must be pass or strip");
  refused({"setting", "set", "outbound.pass_headers", "Diversion,Via"}, "Via is a header sipgw sets itself");
  refused({"buyer", "add", "b9", "--target", "+1888"}, "not an E.164 number");
  refused({"buyer", "add", "b9", "--target", "sip:a@b", "--tz", "Mars/Olympus_Mons"}, "unknown time zone");
  refused({"buyer", "add", "b9", "--target", "sip:a@b", "--hours", "weekdays 9-5"}, "do not parse");
  refused({"buyer", "add", "b9", "--target", "sip:a@b", "--concurrency", "-1"}, "must not be negative");
  refused({"buyer", "add", "b9", "--target", "sip:a@b", "--daily-cap", "-5"}, "must not be negative");
  refused({"buyer", "add", "b9", "--target", "sip:a@b", "--daily-cap", "lots"}, "not a whole number");
  refused({"buyer", "add", "b9", "--target", "sip:a@b", "--auth-user", "u"}, "needs --auth-password-stdin");
  refused({"buyer", "add", "b9", "--target", "sip:a@b", "--auth-user", "u", "--auth-password-stdin"}, "password is empty", "\n");
  refused({"buyer", "update", "ghost", "--concurrency", "1"}, "unknown buyer 'ghost'");
  refused({"buyer", "update", "b1", "--hours", "mon 25:00-26:00"}, "do not parse");
  refused({"domain", "add", "x.example.com", "--auth", "magic"}, "not digest, ip or digest-or-ip");
  refused({"domain", "add", "x.example.com", "--auth", "digest", "--algorithms", "SHA-1"}, "unknown digest algorithm");
  refused({"domain", "add", "x y", "--auth", "digest"}, "not a host name");
  refused({"campaign", "add", "c9", "--ring-timeout", "0"}, "ring timeout");
  refused({"route", "add", "--campaign", "camp1", "--buyer", "b1", "--weight", "0"}, "weight");
  refused({"setting", "set", "no.such.key", "1"}, "unknown setting");
  refused({"setting", "set", "nonce_lifetime", "-1"}, "not a whole number of seconds");
  refused({"setting", "set", "header.uuid", "Bad Name"}, "not a SIP header name");
  refused({"setting", "set", "front_end.addresses", "10.0.0.1/8"}, "host bits set");
  refused({"trunk", "set", "--proxy", "carrier.example.com"}, "not a sip: URI");
  refused({"publisher", "remove", "pub1"}, "still has credentials");
  refused({"campaign", "remove", "camp1"}, "still has numbers");
  refused({"buyer", "remove", "b1"}, "still routed");
  refused({"calls", "show", "nope"}, "unknown call");
  refused({"calls", "list", "--since", "yesterday"}, "not Unix seconds");
  refused({"domain", "frobnicate"}, "");
  refused({"publisher", "add"}, "ID");
}

TEST_F(Ctl, PstnTargetWithoutTrunkIsRefused) {
  provision();
  refused({"buyer", "add", "pstn", "--target", "+18885551234"}, "no trunk is configured");
}

TEST_F(Ctl, DatabaseErrorsExitTwo) {
  const std::string real_db = db_;
  db_ = dir_.file("nodir/x.db");
  auto missing = ctl({"domain", "list"});
  db_ = real_db;
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("cannot open database"), std::string::npos) << missing.err;

  provision();
  auto holder = db::Connection::open(db_, db::Connection::Mode::read_write);
  ASSERT_TRUE(holder);
  ASSERT_TRUE(holder->execute_script("BEGIN IMMEDIATE"));
  auto before = slurp(db_);
  auto locked = ctl({"publisher", "add", "pub9"}, "", "SIPGW_BUSY_TIMEOUT_MS=100");
  EXPECT_EQ(locked.exit_code, 2);
  EXPECT_NE(locked.err.find("locked"), std::string::npos) << locked.err;
  ASSERT_TRUE(holder->execute_script("ROLLBACK"));
  EXPECT_EQ(test_support::dump_database(db_).find("pub9"), std::string::npos);

  {
    auto c = db::Connection::open(db_, db::Connection::Mode::read_write);
    ASSERT_TRUE(c->execute_script("PRAGMA user_version=99"));
  }
  auto newer = ctl({"domain", "list"});
  EXPECT_EQ(newer.exit_code, 2);
  EXPECT_NE(newer.err.find("newer than this sipgw"), std::string::npos) << newer.err;
  EXPECT_EQ(ctl({"init"}).exit_code, 2);
}

}  // namespace
}  // namespace sipgw

namespace sipgw {
namespace {

// sipgw computes the outbound digest itself, so a colon (or any other
// printable character) in an outbound password or username is stored whole;
// only what a quoted Digest username cannot carry is refused.
TEST_F(Ctl, OutboundCredentialsKeepEveryPrintableCharacter) {
  provision();
  ok({"buyer", "update", "b1", "--auth-user", "gw:user", "--auth-password-stdin"}, "p:a ss\"w\\rd: \n");
  ok({"trunk", "set", "--proxy", "sip:carrier.example.com:5060", "--auth-user", "t:u", "--auth-password-stdin"}, ":x:\n");
  auto db = db::Connection::open(db_, db::Connection::Mode::read_only);
  ASSERT_TRUE(db);
  auto row = db->prepare("SELECT b.auth_user, b.auth_password, t.auth_user, t.auth_password FROM buyers b, trunk t "
                         "WHERE b.id = 'b1'");
  ASSERT_TRUE(row);
  ASSERT_TRUE(row->step().value_or(false));
  EXPECT_EQ(row->text(0), "gw:user");
  EXPECT_EQ(row->text(1), "p:a ss\"w\\rd: ");
  EXPECT_EQ(row->text(2), "t:u");
  EXPECT_EQ(row->text(3), ":x:");
  for (std::string user : {"a\"b", "a\\b", ""}) {
    refused({"buyer", "update", "b1", "--auth-user", user, "--auth-password-stdin"}, "quote, backslash", "pw\n");
    refused({"trunk", "set", "--proxy", "sip:carrier.example.com", "--auth-user", user, "--auth-password-stdin"},
            "quote, backslash", "pw\n");
  }
}

}  // namespace
}  // namespace sipgw

namespace sipgw {
namespace {

TEST_F(Ctl, CampaignMaxDurationIsSecondsNoneOrDefault) {
  provision();
  ok({"campaign", "add", "c2", "--max-duration", "3600"});
  ok({"campaign", "update", "camp1", "--max-duration", "none"});
  auto list = json({"campaign", "list"});
  std::map<std::string, nlohmann::json> by_id;
  for (auto& c : list) by_id[c["id"]] = c["max_duration"];
  EXPECT_EQ(by_id["c2"], 3600);
  EXPECT_EQ(by_id["camp1"], 0);  // no limit
  ok({"campaign", "update", "camp1", "--max-duration", "default", "--ring-timeout", "25"});
  list = json({"campaign", "list"});
  for (auto& c : list) {
    if (c["id"] == "camp1") {
      EXPECT_TRUE(c["max_duration"].is_null());  // the setting call.max_duration applies
      EXPECT_EQ(c["ring_timeout"], 25);
    }
  }
  refused({"campaign", "update", "camp1", "--max-duration", "-5"}, "max duration must be 0 to 604800 seconds");
  refused({"campaign", "update", "camp1", "--max-duration", "lots"}, "not a whole number or 'none'");
  refused({"campaign", "update", "ghost", "--name", "x"}, "unknown campaign 'ghost'");
  refused({"setting", "set", "call.max_setup", "0"}, "not a whole number of seconds from 1 to 3600");
  ok({"setting", "set", "call.max_duration", "0"});
}

TEST_F(Ctl, BlockListsAddListRemoveAndImportAllOrNothing) {
  provision();
  ok({"block", "add", "+15551234567", "--note", "complained"});
  ok({"block", "add", "+1900*", "--campaign", "camp1"});
  ok({"block", "add", "ANONYMOUS", "--campaign", "camp1"});
  ok({"campaign", "add", "camp2"});
  ok({"block", "add", "+1800*", "--campaign", "camp2"});
  auto list = json({"block", "list", "--campaign", "camp1"});  // camp1's and the global ones
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0]["entry"], "+15551234567");
  EXPECT_TRUE(list[0]["campaign_id"].is_null());
  EXPECT_EQ(list[0]["note"], "complained");
  EXPECT_EQ(list[1]["entry"], "+1900*");
  EXPECT_EQ(list[1]["campaign_id"], "camp1");
  EXPECT_EQ(list[2]["entry"], "anonymous");
  EXPECT_EQ(json({"block", "list"}).size(), 4u);

  refused({"block", "add", "+15551234567"}, "+15551234567 is already on the global block list");
  refused({"block", "add", "5551234567"}, "is not a block entry");
  refused({"block", "add", "+1555*", "--campaign", "ghost"}, "unknown campaign 'ghost'");
  refused({"block", "remove", "+1900*"}, "+1900* is not on the global block list");

  std::ofstream(dir_.file("good.txt")) << "# numbers from the complaints desk\n+15550000001\n\n+15550000002\r\n+44*\n+15551234567\n";
  auto r = ctl({"block", "import", dir_.file("good.txt")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "imported 3 new block entries\n");  // +15551234567 was already there
  std::ofstream(dir_.file("bad.txt")) << "+15550000003\n+15550000004\nnot-a-number\n+15550000005\n";
  refused({"block", "import", dir_.file("bad.txt")}, "line 3: 'not-a-number' is not a block entry");
  refused({"block", "import", dir_.file("missing.txt")}, "cannot open");
  r = ctl({"block", "import", "-", "--campaign", "camp2"}, "+15550000009\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json({"block", "list"}).size(), 8u);

  ok({"block", "remove", "+1900*", "--campaign", "camp1"});
  ok({"campaign", "remove", "camp2"});  // its block entries go with it
  EXPECT_EQ(json({"block", "list"}).size(), 5u);
}

TEST_F(Ctl, CampaignScreeningAndPublisherLimits) {
  provision();
  ok({"campaign", "update", "camp1", "--repeat-window", "86400", "--repeat-after", "connected", "--repeat-route", "b1",
      "--min-attestation", "B"});
  auto campaign = json({"campaign", "list"})[0];
  EXPECT_EQ(campaign["repeat_window"], 86400);
  EXPECT_EQ(campaign["repeat_after"], "connected");
  EXPECT_EQ(campaign["repeat_route"], "b1");
  EXPECT_EQ(campaign["min_attestation"], "B");
  refused({"buyer", "remove", "b1"}, "takes a campaign's repeat callers");
  refused({"campaign", "update", "camp1", "--repeat-window", "0"}, "repeat window must be 1 to");
  refused({"campaign", "update", "camp1", "--repeat-after", "answered"}, "--repeat-after must be inbound, connected or converted");
  refused({"campaign", "update", "camp1", "--repeat-route", "ghost"}, "unknown buyer 'ghost'");
  refused({"campaign", "update", "camp1", "--min-attestation", "D"}, "--min-attestation must be A, B, C or none");
  refused({"campaign", "add", "camp9", "--repeat-route", "ghost"}, "unknown buyer 'ghost'");
  ok({"campaign", "update", "camp1", "--repeat-window", "none", "--repeat-route", "none", "--min-attestation", "none"});
  campaign = json({"campaign", "list"})[0];
  EXPECT_TRUE(campaign["repeat_window"].is_null());
  EXPECT_TRUE(campaign["repeat_route"].is_null());
  EXPECT_EQ(campaign["min_attestation"], "none");

  ok({"publisher", "update", "pub1", "--hourly-cap", "20", "--daily-cap", "100", "--cps", "5", "--caller-from", "pai"});
  ok({"publisher", "add", "pub9", "--cps", "2", "--concurrency", "4"});
  auto publishers = json({"publisher", "list"});
  ASSERT_EQ(publishers.size(), 2u);
  EXPECT_EQ(publishers[0]["hourly_cap"], 20);
  EXPECT_EQ(publishers[0]["daily_cap"], 100);
  EXPECT_EQ(publishers[0]["cps"], 5);
  EXPECT_EQ(publishers[0]["caller_from"], "pai");
  EXPECT_EQ(publishers[0]["name"], "Publisher One");  // untouched
  EXPECT_EQ(publishers[1]["concurrency_cap"], 4);
  EXPECT_EQ(publishers[1]["caller_from"], "from");
  refused({"publisher", "update", "pub1", "--cps", "0"}, "publisher calls per second must be 1 to 100000");
  refused({"publisher", "update", "pub1", "--caller-from", "contact"}, "--caller-from must be from or pai");
  refused({"publisher", "update", "ghost", "--cps", "1"}, "unknown publisher 'ghost'");
  ok({"publisher", "update", "pub1", "--cps", "none"});
  EXPECT_TRUE(json({"publisher", "list"})[0]["cps"].is_null());

  ok({"buyer", "update", "b1", "--identity", "strip"});
  EXPECT_EQ(json({"buyer", "show", "b1"})["pass_identity"], false);
  refused({"buyer", "update", "b1", "--identity", "maybe"}, "--identity must be pass or strip");
  EXPECT_EQ(json({"buyer", "show", "b1"})["pass_asserted_identity"], false);  // not trusted unless said
  ok({"buyer", "update", "b1", "--asserted-identity", "pass"});
  EXPECT_EQ(json({"buyer", "show", "b1"})["pass_asserted_identity"], true);
}

TEST_F(Ctl, PostbacksAndConversionTimes) {
  provision();
  ok({"postback", "add", "--event", "converted", "--url", "https://track.example.com/c?key=[postback_key]", "--campaign",
      "camp1"});
  ok({"postback", "add", "--event", "completed", "--url", "http://127.0.0.1:8080/done", "--method", "POST", "--header",
      "Content-Type: application/json", "--header", "X-Token: abc", "--body", R"({"d":"[duration]"})", "--buyer", "b1"});
  auto list = json({"postback", "list"});
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["id"], 1);
  EXPECT_EQ(list[0]["event"], "converted");
  EXPECT_EQ(list[0]["campaign_id"], "camp1");
  EXPECT_EQ(list[0]["pending"], 0);
  EXPECT_EQ(list[1]["method"], "POST");
  EXPECT_EQ(list[1]["headers"], "Content-Type: application/json\nX-Token: abc");
  refused({"postback", "add", "--event", "answered", "--url", "http://h/"}, "--event must be inbound, connected");
  refused({"postback", "add", "--event", "completed", "--url", "ftp://h/"}, "--url must be an http:// or https:// URL");
  refused({"postback", "add", "--event", "completed", "--url", "http://u:p@h/"}, "--url must be");
  refused({"postback", "add", "--event", "completed", "--url", "http://h/", "--body", "x"}, "--body needs --method POST");
  refused({"postback", "add", "--event", "completed", "--url", "http://h/", "--header", "Host: x"}, "--header Host is set by sipgw");
  refused({"postback", "add", "--event", "completed", "--url", "http://h/", "--header", "no colon"}, "--header must be 'Name: value'");
  refused({"postback", "add", "--event", "completed", "--url", "http://h/", "--campaign", "ghost"}, "unknown campaign 'ghost'");
  refused({"postback", "remove", "7"}, "unknown postback 7");
  refused({"postback", "retry", "7"}, "no failed delivery 7");
  EXPECT_EQ(json({"postback", "failures"}).size(), 0u);
  ok({"postback", "remove", "2"});
  EXPECT_EQ(json({"postback", "list"}).size(), 1u);

  ok({"campaign", "update", "camp1", "--conversion-seconds", "90"});
  ok({"buyer", "update", "b1", "--conversion-seconds", "120"});
  EXPECT_EQ(json({"campaign", "list"})[0]["conversion_seconds"], 90);
  EXPECT_EQ(json({"buyer", "show", "b1"})["conversion_seconds"], 120);
  refused({"campaign", "update", "camp1", "--conversion-seconds", "0"}, "conversion time must be 1 to 86400 seconds");
  refused({"campaign", "add", "camp7", "--conversion-seconds", "-3"}, "conversion time must be 1 to 86400 seconds");
  ok({"campaign", "update", "camp1", "--conversion-seconds", "none"});
  EXPECT_TRUE(json({"campaign", "list"})[0]["conversion_seconds"].is_null());
}

TEST_F(Ctl, SessionTimerSettingsHaveRangesAndZeroTurnsTimersOff) {
  ok({"setting", "set", "session.expires", "600"});
  ok({"setting", "set", "session.min_se", "120"});
  ok({"setting", "set", "session.expires", "0"});  // no session timers
  refused({"setting", "set", "session.expires", "-1"}, "not a whole number of seconds from 0 to 86400");
  refused({"setting", "set", "session.min_se", "0"}, "not a whole number of seconds from 1 to 86400");
  refused({"setting", "set", "session.min_se", "soon"}, "not a whole number of seconds from 1 to 86400");
  auto list = json({"setting", "list"});
  std::map<std::string, nlohmann::json> by_key;
  for (auto& s : list) by_key[s["key"]] = s["value"];
  EXPECT_EQ(by_key["session.expires"], "0");
  EXPECT_EQ(by_key["session.min_se"], "120");
}

}  // namespace
}  // namespace sipgw
