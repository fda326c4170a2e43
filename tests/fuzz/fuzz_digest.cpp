// Digest credentials as a publisher sends them (Proxy-Authorization, split
// into parameters by the SIP stack), through sipgw's admission: fields are
// username, realm, nonce, uri, response, algorithm, qop, nc, cnonce and the
// Request-URI host. With a nonce sipgw really issued and any other values,
// nothing is admitted without knowing the password, and nothing faults.
// The challenge parser (a buyer's or carrier's 401/407) gets the same bytes
// as its parameter list.
#include "auth/digest.h"
#include "auth/digest_client.h"
#include "fuzz_input.h"
#include "gateway/admission.h"

#include <variant>

using namespace sipgw;

namespace {

constexpr std::int64_t kNow = 1'800'000'000;

const routing::Snapshot& snapshot() {
  static const routing::Snapshot s = [] {
    routing::Snapshot s;
    for (const char* realm : {"digest.test", "mixed.test"}) {
      s.domains[realm] = {realm, std::string(realm) == "digest.test" ? routing::AuthMode::digest : routing::AuthMode::digest_or_ip,
                          realm, {auth::DigestAlgorithm::md5, auth::DigestAlgorithm::sha256}};
      s.credentials[routing::Snapshot::credential_key("alice", realm)] =
          routing::Credential{"alice", realm, "pub1", auth::ha1(auth::DigestAlgorithm::md5, "alice", realm, "a long secret"),
                              auth::ha1(auth::DigestAlgorithm::sha256, "alice", realm, "a long secret")};
    }
    s.publishers["pub1"] = {"pub1", "", true, std::nullopt};
    s.campaigns["c1"] = {"c1", "", 30, {}, std::nullopt};
    s.numbers["+18882223333"] = {"+18882223333", "c1", std::nullopt, true};
    return s;
  }();
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto f = fuzz::fields(data, size, 10);
  static gateway::DigestState digest{auth::NonceIssuer::with_random_secret(), {}};
  gateway::InboundInvite invite;
  invite.request_host = f[9].empty() ? "digest.test" : f[9];
  invite.request_user = "+18882223333";
  invite.request_uri = "sip:+18882223333@" + invite.request_host;
  invite.source = *auth::parse_ip("203.0.113.9");
  // An empty nonce field stands for a fresh one sipgw issued itself, so the
  // checks past the nonce are reached too.
  const std::string nonce = f[2].empty() ? digest.issuer.issue(f[1], kNow) : f[2];
  // The uri as written and as Sofia would print it are the same field here.
  invite.credentials.push_back({f[0], f[1], nonce, f[3], f[3], f[4], f[5], f[6], f[7], f[8]});
  const auto decision = gateway::admit(snapshot(), invite, digest, kNow);
  fuzz::require(!std::holds_alternative<gateway::Admitted>(decision), "no call is admitted without the password",
                fuzz::text(data, size));
  if (const auto* challenge = std::get_if<gateway::Challenge>(&decision)) {
    for (const auto& value : gateway::challenge_headers(*challenge, digest, kNow)) {
      fuzz::require(!fuzz::has_control(value, false), "a challenge header has no control character", value);
    }
  }

  std::vector<std::string> params(f.begin(), f.end() - 1);
  if (auto challenge = auth::parse_digest_challenge(f[9], params)) {
    auto answer = auth::digest_authorization(*challenge, "alice", "secret", {"INVITE", "sip:+18882223333@buyer", "c"});
    if (answer) fuzz::require(!fuzz::has_control(*answer, true), "an Authorization value has no control character", *answer);
  }
  return 0;
}
