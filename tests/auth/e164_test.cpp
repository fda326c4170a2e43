#include "auth/e164.h"

#include <gtest/gtest.h>

namespace sipgw::auth {
namespace {

TEST(E164, AcceptsPlusAndEightToFifteenDigits) {
  EXPECT_TRUE(is_e164("+18882223333"));
  EXPECT_TRUE(is_e164("+12345678"));           // 8 digits
  EXPECT_TRUE(is_e164("+123456789012345"));    // 15 digits
  EXPECT_TRUE(is_e164("+442071838750"));
}

TEST(E164, RefusesEverythingElse) {
  for (const char* bad : {"", "+", "18882223333", "+1234567", "+1234567890123456", "+08882223333", "+1888222333a",
                          "+1 8882223333", "++18882223333", "+1888-222-3333", "tel:+18882223333"}) {
    EXPECT_FALSE(is_e164(bad)) << bad;
  }
}

}  // namespace
}  // namespace sipgw::auth
