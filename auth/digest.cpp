#include "auth/digest.h"

#include "auth/text.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

namespace sipgw::auth {

std::string_view to_string(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::md5 ? "MD5" : "SHA-256";
}

std::optional<DigestAlgorithm> parse_digest_algorithm(std::string_view text) {
  if (iequals(text, "MD5")) return DigestAlgorithm::md5;
  if (iequals(text, "SHA-256")) return DigestAlgorithm::sha256;
  return std::nullopt;
}

std::expected<std::vector<DigestAlgorithm>, std::string> parse_algorithm_list(std::string_view text) {
  std::vector<DigestAlgorithm> out;
  while (true) {
    auto comma = text.find(',');
    auto item = trim(text.substr(0, comma));
    auto algorithm = parse_digest_algorithm(item);
    if (!algorithm) {
      return std::unexpected("unknown digest algorithm '" + std::string(item) + "' (use MD5 and/or SHA-256)");
    }
    if (std::find(out.begin(), out.end(), *algorithm) != out.end()) {
      return std::unexpected("digest algorithm " + std::string(to_string(*algorithm)) + " is listed twice");
    }
    out.push_back(*algorithm);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string format_algorithm_list(const std::vector<DigestAlgorithm>& algorithms) {
  std::string out;
  for (auto a : algorithms) {
    if (!out.empty()) out += ',';
    out += to_string(a);
  }
  return out;
}

std::string hex_hash(DigestAlgorithm algorithm, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const EVP_MD* md = algorithm == DigestAlgorithm::md5 ? EVP_md5() : EVP_sha256();
  EVP_Digest(data.data(), data.size(), digest, &length, md, nullptr);
  return to_hex(digest, length);
}

std::string ha1(DigestAlgorithm algorithm, std::string_view username, std::string_view realm,
                std::string_view password) {
  std::string input;
  input.reserve(username.size() + realm.size() + password.size() + 2);
  input.append(username).append(":").append(realm).append(":").append(password);
  auto out = hex_hash(algorithm, input);
  OPENSSL_cleanse(input.data(), input.size());
  return out;
}

std::string digest_response(DigestAlgorithm algorithm, std::string_view ha1_hex, const DigestAnswer& answer) {
  std::string a2;
  a2.append(answer.method).append(":").append(answer.uri);
  const std::string ha2 = hex_hash(algorithm, a2);
  std::string kd;
  kd.append(ha1_hex).append(":").append(answer.nonce).append(":");
  if (!answer.qop.empty()) {
    kd.append(answer.nc).append(":").append(answer.cnonce).append(":").append(answer.qop).append(":");
  }
  kd.append(ha2);
  return hex_hash(algorithm, kd);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace sipgw::auth
