#include "routing/target.h"

#include <gtest/gtest.h>

namespace sipgw::routing {
namespace {

TEST(Target, ClassifiesSipAndPstn) {
  EXPECT_EQ(classify_target("sip:agentqueue@example.com"), TargetKind::sip_uri);
  EXPECT_EQ(classify_target("SIP:a@example.com:5060;transport=TCP"), TargetKind::sip_uri);
  EXPECT_EQ(classify_target("sip:[number]@pbx.example.com"), TargetKind::sip_uri);
  EXPECT_EQ(classify_target("sip:example.com"), TargetKind::sip_uri);
  EXPECT_EQ(classify_target("sip:a@[2001:db8::1]:5060"), TargetKind::sip_uri);
  EXPECT_EQ(classify_target("+18885551234"), TargetKind::pstn);
}

TEST(Target, RefusesTlsUntilSipgwHasIt) {
  for (const char* tls : {"sips:a@example.com", "SIPS:a@example.com:5061", "sip:a@example.com;transport=tls",
                          "sip:a@example.com;lr;Transport=TLS"}) {
    auto kind = classify_target(tls);
    ASSERT_FALSE(kind) << tls;
    EXPECT_NE(kind.error().find("TLS"), std::string::npos) << kind.error();
  }
  EXPECT_FALSE(validate_trunk_proxy("sips:carrier.example.com"));
  EXPECT_TRUE(validate_trunk_proxy("sip:carrier.example.com;transport=tcp"));
}

TEST(Target, RefusesAnUnknownTokenNamingTheKnownOnes) {
  auto kind = classify_target("sip:[caller_id]@pbx.example.com");
  ASSERT_FALSE(kind);
  EXPECT_NE(kind.error().find("unknown token [caller_id]"), std::string::npos) << kind.error();
  EXPECT_NE(kind.error().find("[caller_number]"), std::string::npos) << kind.error();
  EXPECT_TRUE(classify_target("sip:[NUMBER]@pbx.example.com;x=[header:X-Zip]"));
  EXPECT_TRUE(classify_target("sip:a@[fe80::1]:5060"));
}

TEST(Target, RefusesOthers) {
  for (const char* bad : {"", "18885551234", "+1888", "tel:+18885551234", "http://x", "sip:", "sip:a@", "sip:@h",
                          "sip:a b@h", "sip:a@h:99999", "sip:a@h:", "sip:a@h\r\nVia: x", "sip:<a@h>", "sip:a@[::1"}) {
    EXPECT_FALSE(classify_target(bad)) << bad;
  }
}

TEST(Target, PstnRequestUriGoesThroughTheTrunk) {
  EXPECT_EQ(pstn_request_uri("+18885551234", "sip:carrier.example.com:5060"), "sip:+18885551234@carrier.example.com:5060");
  EXPECT_EQ(pstn_request_uri("+18885551234", "sip:127.0.0.1:5090;transport=tcp"),
            "sip:+18885551234@127.0.0.1:5090;transport=tcp");
}

TEST(Target, TrunkProxyHasNoUserPart) {
  EXPECT_TRUE(validate_trunk_proxy("sip:carrier.example.com"));
  EXPECT_FALSE(validate_trunk_proxy("sip:u@carrier.example.com"));
  EXPECT_FALSE(validate_trunk_proxy("carrier.example.com"));
}

}  // namespace
}  // namespace sipgw::routing
