// The one way gateway's adapter files include Sofia-SIP, so every one of
// them sees the same magic types. Nothing outside the adapter files
// (sofia_*.cpp, sip_pump.cpp) includes this header or any Sofia header.
#pragma once

namespace sipgw::gateway {
class SofiaLeg;
class SofiaClock;
struct SofiaStacks;
}  // namespace sipgw::gateway

// Typed magic pointers for Sofia callbacks (must precede the Sofia headers).
#define NUA_MAGIC_T sipgw::gateway::SofiaStacks
#define NUA_HMAGIC_T sipgw::gateway::SofiaLeg
#define SU_ROOT_MAGIC_T sipgw::gateway::SofiaStacks
#define SU_WAKEUP_ARG_T sipgw::gateway::SofiaStacks
#define SU_TIMER_ARG_T sipgw::gateway::SofiaClock

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_localinfo.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/url.h>

#include <string>

namespace sipgw::gateway::sofia {

inline std::string str(const char* s) { return s ? s : ""; }

// Exactly the methods sipgw serves. SIPTAG_ALLOW_STR replaces Sofia's
// default list (NUTAG_ALLOW would merge into it and advertise MESSAGE,
// REFER, SUBSCRIBE, NOTIFY, PRACK); nta then answers every other method
// with 405 and this Allow list before any handle exists, in or out of a
// dialog, so nothing is accepted on sipgw's behalf (no 202 to a REFER and
// no NOTIFY to whatever Contact the sender wrote). PRACK acknowledges the
// reliable 18x sipgw sends a publisher that asks for them (RFC 3262).
inline constexpr const char* kAllowedMethods = "INVITE, ACK, BYE, CANCEL, OPTIONS, PRACK, INFO, UPDATE";

// nua_respond keeps the phrase pointer and sends later (nua_signal copies
// the tags, not the phrase): a relayed status gets Sofia's static phrase,
// never the peer's text, whose buffer is reused once the callback returns.
inline const char* static_phrase(int status) {
  const char* phrase = sip_status_phrase(status);
  return phrase ? phrase : "Unknown Status";
}

// A URL as Sofia prints it ("" when it does not fit 1 KB).
std::string url_text(const url_t* url);
// A URI string normalized the way Sofia prints a Request-URI, so the two
// compare as strings (digest uri checks).
std::string normalized_uri(const char* text);

}  // namespace sipgw::gateway::sofia
