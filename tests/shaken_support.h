// STIR/SHAKEN test material: Identity header values shaped as carriers send
// them (RFC 8224, 8588), with a signature that is not real - sipgw decodes
// the PASSporT, it does not verify it.
#pragma once

#include <openssl/evp.h>

#include <string>
#include <vector>

namespace sipgw::test_support {

inline std::string base64url(const std::string& text) {
  std::vector<unsigned char> out(4 * ((text.size() + 2) / 3) + 1);
  const int n = EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  std::string s(reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n));
  for (auto& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

// An Identity header value carrying these PASSporT claims (JSON text).
inline std::string identity_with_claims(const std::string& claims) {
  return base64url(R"({"alg":"ES256","ppt":"shaken","typ":"passport","x5u":"https://cert.example.org/sp.pem"})") + "." +
         base64url(claims) +
         ".MEUCIQCyfXKjbUZ4pGkkiV3ePVCm2nGwkN5vPOvJmd7z3k7ygwIgXPl0Fz2wRQ;info=<https://cert.example.org/sp.pem>;alg=ES256;ppt=shaken";
}

// A SHAKEN PASSporT for a call from caller (+E164) to +18882223333.
inline std::string shaken_identity(const std::string& attest, const std::string& caller) {
  return identity_with_claims(R"({"attest":")" + attest + R"(","dest":{"tn":["18882223333"]},"iat":1764500000,"orig":{"tn":")" +
                              caller.substr(1) + R"("},"origid":"4437c7eb-8f7a-4f0e-a863-f53a0e60251a"})");
}

}  // namespace sipgw::test_support
