#include "auth/caller_identity.h"

#include <gtest/gtest.h>

#include "tests/shaken_support.h"

#include <string>

namespace sipgw::auth {
namespace {

using test_support::identity_with_claims;

std::string identity(const std::string& claims) { return identity_with_claims(claims); }

TEST(Passport, TheAttestClaimIsRead) {
  EXPECT_EQ(passport_attestation(identity(R"({"attest":"A","dest":{"tn":["18882223333"]},"iat":1,"orig":{"tn":"15551234567"},"origid":"x"})")),
            Attestation::A);
  EXPECT_EQ(passport_attestation(identity(R"({"attest":"B"})")), Attestation::B);
  EXPECT_EQ(passport_attestation(identity(R"({"attest":"C"})")), Attestation::C);
}

TEST(Passport, AnythingElseIsNone) {
  EXPECT_EQ(passport_attestation(""), Attestation::none);
  EXPECT_EQ(passport_attestation("not a jws"), Attestation::none);
  EXPECT_EQ(passport_attestation(identity(R"({"orig":{"tn":"1"}})")), Attestation::none);
  EXPECT_EQ(passport_attestation(identity(R"({"attest":"D"})")), Attestation::none);
  EXPECT_EQ(passport_attestation(identity(R"({"attest":1})")), Attestation::none);
  EXPECT_EQ(passport_attestation(identity("[1,2")), Attestation::none);
  EXPECT_EQ(passport_attestation("a.!!!.c"), Attestation::none);
  // Only the top-level claim counts, never a nested or quoted "attest".
  EXPECT_EQ(passport_attestation(identity(R"({"orig":{"attest":"A"}})")), Attestation::none);
  EXPECT_EQ(passport_attestation(identity(R"({"x":"attest","y":"A"})")), Attestation::none);
  EXPECT_EQ(passport_attestation(identity(R"({"list":["attest","A"],"attest":"B"})")), Attestation::B);
  EXPECT_EQ(passport_attestation(identity(R"("attest")")), Attestation::none);
}

TEST(Passport, AttestationsOrderWeakestFirst) {
  EXPECT_LT(Attestation::none, Attestation::C);
  EXPECT_LT(Attestation::C, Attestation::B);
  EXPECT_LT(Attestation::B, Attestation::A);
  EXPECT_EQ(parse_attestation("b"), Attestation::B);
  EXPECT_EQ(parse_attestation("none"), Attestation::none);
  EXPECT_FALSE(parse_attestation("E"));
}

TEST(Verstat, FoundInTheUserPartOrAsAParameter) {
  EXPECT_EQ(verstat("<sip:+15551234567;verstat=TN-Validation-Passed@carrier.example;user=phone>"), "TN-Validation-Passed");
  EXPECT_EQ(verstat("sip:+15551234567@carrier.example;VERSTAT=TN-Validation-Failed"), "TN-Validation-Failed");
  EXPECT_EQ(verstat("<sip:+15551234567@carrier.example>"), "");
  EXPECT_EQ(verstat("verstat=No-TN-Validation\r\nX: y"), "No-TN-Validation");  // stops at anything else
}

TEST(UriUser, TakesTheUserOfTheFirstUri) {
  EXPECT_EQ(uri_user("\"Bob\" <sip:+15551234567@carrier.example;user=phone>"), "+15551234567");
  EXPECT_EQ(uri_user("<tel:+15551234567;verstat=TN-Validation-Passed>"), "+15551234567");
  EXPECT_EQ(uri_user("<sip:+15551234567;verstat=TN-Validation-Passed@x>"), "+15551234567");
  EXPECT_EQ(uri_user("<sip:carrier.example>"), "");
  EXPECT_EQ(uri_user("garbage"), "");
}

TEST(CallerNumber, DigitsWithOrWithoutPlus) {
  auto n = parse_caller_number("+15551234567");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->digits, 15551234567u);
  EXPECT_EQ(n->length, 11);
  EXPECT_EQ(parse_caller_number("15551234567"), n);
  EXPECT_NE(key_of(*parse_caller_number("0155")), key_of(*parse_caller_number("155")));  // leading zeros count
  EXPECT_FALSE(parse_caller_number("anonymous"));
  EXPECT_FALSE(parse_caller_number(""));
  EXPECT_FALSE(parse_caller_number("+"));
  EXPECT_FALSE(parse_caller_number("+1234567890123456"));  // 16 digits
  EXPECT_FALSE(parse_caller_number("+1 555"));
}

TEST(IdentifyCaller, FromUnlessThePublisherIsTrustedToAssert) {
  const std::string pai = "<sip:+15550000001@carrier.example>";
  auto from_only = identify_caller({"+15559999999", pai, false, false});
  EXPECT_EQ(from_only.number, "+15559999999");
  EXPECT_FALSE(from_only.from_asserted_identity);
  auto trusted = identify_caller({"+15559999999", pai, true, false});
  EXPECT_EQ(trusted.number, "+15550000001");
  EXPECT_TRUE(trusted.from_asserted_identity);
  ASSERT_TRUE(trusted.usable);
  // Trusted but no P-Asserted-Identity sent: From.
  EXPECT_EQ(identify_caller({"+15559999999", std::nullopt, true, false}).number, "+15559999999");
}

TEST(IdentifyCaller, AnEscapedUserIsTheNumberItSpells) {
  // "%2B" is '+' (RFC 3261 19.1.2): one number, however the publisher wrote it.
  auto escaped = identify_caller({"%2B15559999999", std::nullopt, false, false});
  EXPECT_EQ(escaped.number, "+15559999999");
  EXPECT_TRUE(escaped.usable);
  EXPECT_EQ(identify_caller({"x", "<sip:%2b15550000001@c>", true, false}).number, "+15550000001");
  EXPECT_EQ(identify_caller({"100%", std::nullopt, false, false}).number, "100%");  // not an escape: kept
  EXPECT_EQ(identify_caller({"%4", std::nullopt, false, false}).number, "%4");
  // An escaped ';' is part of the user, not a parameter: no number (found by fuzz_caller).
  EXPECT_FALSE(identify_caller({"x", "<tel:+926%3ba>", true, false}).usable);
  EXPECT_FALSE(identify_caller({"+1555%3Bx", std::nullopt, false, false}).usable);
}

TEST(IdentifyCaller, TheDisplayNameComesFromTheSameHeaderAsTheNumber) {
  EXPECT_EQ(display_name("\"Bob \\\"B\\\" Smith\" <sip:+1@h>"), "Bob \"B\" Smith");
  EXPECT_EQ(display_name("Bob <sip:+1@h>"), "Bob");
  EXPECT_EQ(display_name("<sip:+1@h>"), "");
  EXPECT_EQ(display_name("sip:+1@h"), "");
  EXPECT_EQ(display_name("\"Alice\""), "Alice");  // Sofia's a_display
  auto from = identify_caller({"+15559999999", "\"Carrier Name\" <sip:+15550000001@c>", false, false, "\"From Name\""});
  EXPECT_EQ(from.name, "From Name");
  auto asserted = identify_caller({"+15559999999", "\"Carrier Name\" <sip:+15550000001@c>", true, false, "\"From Name\""});
  EXPECT_EQ(asserted.name, "Carrier Name");
}

TEST(IdentifyCaller, AnonymousCallers) {
  EXPECT_FALSE(identify_caller({"anonymous", std::nullopt, false, false}).usable);
  EXPECT_FALSE(identify_caller({"", std::nullopt, false, false}).usable);
  EXPECT_FALSE(identify_caller({"restricted", std::nullopt, false, false}).usable);
  // Privacy: id without an identity sipgw may use.
  EXPECT_FALSE(identify_caller({"+15559999999", std::nullopt, false, true}).usable);
  EXPECT_FALSE(identify_caller({"+15559999999", "<sip:+15550000001@c>", false, true}).usable);
  // A trusted P-Asserted-Identity names the caller even with Privacy: id.
  EXPECT_TRUE(identify_caller({"anonymous", "<sip:+15550000001@c>", true, true}).usable);
  // A user part with a verstat parameter is still a number.
  EXPECT_TRUE(identify_caller({"+15559999999;verstat=TN-Validation-Passed", std::nullopt, false, false}).usable);
}

}  // namespace
}  // namespace sipgw::auth
