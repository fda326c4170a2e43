#include "routing/target.h"

#include <gtest/gtest.h>

namespace sipgw::routing {
namespace {

TEST(Target, ClassifiesSipAndPstn) {
  EXPECT_EQ(classify_target("sip:agentqueue@example.com"), TargetKind::sip_uri);
  EXPECT_EQ(classify_target("SIPS:a@example.com:5061;transport=tls"), TargetKind::sip_uri);
  EXPECT_EQ(classify_target("sip:[number]@pbx.example.com"), TargetKind::sip_uri);
  EXPECT_EQ(classify_target("sip:example.com"), TargetKind::sip_uri);
  EXPECT_EQ(classify_target("sip:a@[2001:db8::1]:5060"), TargetKind::sip_uri);
  EXPECT_EQ(classify_target("+18885551234"), TargetKind::pstn);
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
