#include "auth/digest_client.h"

#include "auth/digest.h"
#include "auth/text.h"

#include <openssl/crypto.h>

#include <algorithm>

namespace sipgw::auth {

namespace {

// "\"a\\\"b\"" -> a"b; an unquoted token is returned as it is.
std::string unquote(std::string_view value) {
  value = trim(value);
  if (value.size() < 2 || value.front() != '"' || value.back() != '"') return std::string(value);
  std::string out;
  for (std::size_t i = 1; i + 1 < value.size(); ++i) {
    if (value[i] == '\\' && i + 2 < value.size()) ++i;
    out += value[i];
  }
  return out;
}

// "auth" among comma-separated qop options.
bool offers_auth(std::string_view options) {
  while (!options.empty()) {
    auto comma = options.find(',');
    if (iequals(trim(options.substr(0, comma)), "auth")) return true;
    if (comma == std::string_view::npos) break;
    options.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::string quote_parameter(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    // A peer's realm or nonce never brings a control character (CR, LF)
    // into our header.
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) continue;
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::expected<DigestChallenge, std::string> parse_digest_challenge(std::string_view scheme,
                                                                   const std::vector<std::string>& params) {
  if (!iequals(scheme, "Digest")) return std::unexpected("challenge scheme " + std::string(scheme) + " is not Digest");
  DigestChallenge c;
  for (const auto& param : params) {
    auto eq = param.find('=');
    if (eq == std::string::npos) continue;
    auto name = trim(std::string_view(param).substr(0, eq));
    auto value = unquote(std::string_view(param).substr(eq + 1));
    if (iequals(name, "realm")) c.realm = std::move(value);
    else if (iequals(name, "nonce")) c.nonce = std::move(value);
    else if (iequals(name, "opaque")) c.opaque = std::move(value);
    else if (iequals(name, "algorithm")) c.algorithm = std::move(value);
    else if (iequals(name, "qop")) c.qop = std::move(value);
  }
  if (c.nonce.empty()) return std::unexpected("challenge has no nonce");
  if (c.realm.empty() && std::none_of(params.begin(), params.end(), [](const std::string& p) {
        return iequals(trim(std::string_view(p).substr(0, p.find('='))), "realm");
      })) {
    return std::unexpected("challenge has no realm");
  }
  return c;
}

std::expected<std::string, std::string> digest_authorization(const DigestChallenge& challenge,
                                                             std::string_view username, std::string_view password,
                                                             const DigestClientRequest& request) {
  std::string_view algorithm_name = challenge.algorithm.empty() ? std::string_view("MD5") : challenge.algorithm;
  bool session = false;
  if (algorithm_name.size() > 5 && iequals(algorithm_name.substr(algorithm_name.size() - 5), "-sess")) {
    session = true;
    algorithm_name.remove_suffix(5);
  }
  auto algorithm = parse_digest_algorithm(algorithm_name);
  if (!algorithm) return std::unexpected("challenge algorithm " + challenge.algorithm + " is not supported");
  const bool with_qop = !challenge.qop.empty();
  if (with_qop && !offers_auth(challenge.qop)) return std::unexpected("challenge qop " + challenge.qop + " offers no auth");
  if ((with_qop || session) && request.cnonce.empty()) return std::unexpected("no cnonce");

  std::string secret = ha1(*algorithm, username, challenge.realm, password);
  if (session) {
    std::string sess = secret + ":" + challenge.nonce + ":" + std::string(request.cnonce);
    OPENSSL_cleanse(secret.data(), secret.size());
    secret = hex_hash(*algorithm, sess);
    OPENSSL_cleanse(sess.data(), sess.size());
  }
  const std::string_view nc = "00000001";  // each challenge is answered once, with a fresh cnonce
  DigestAnswer answer{request.method, request.uri, challenge.nonce, with_qop ? nc : std::string_view(),
                      with_qop ? request.cnonce : std::string_view(), with_qop ? std::string_view("auth") : std::string_view()};
  const std::string response = digest_response(*algorithm, secret, answer);
  OPENSSL_cleanse(secret.data(), secret.size());

  std::string out = "Digest username=" + quote_parameter(username) + ", realm=" + quote_parameter(challenge.realm) +
                    ", nonce=" + quote_parameter(challenge.nonce) + ", uri=" + quote_parameter(request.uri) +
                    ", response=\"" + response + "\"";
  if (!challenge.algorithm.empty()) out += ", algorithm=" + challenge.algorithm;
  if (with_qop || session) out += ", cnonce=" + quote_parameter(request.cnonce);
  if (with_qop) out += ", qop=auth, nc=" + std::string(nc);
  if (!challenge.opaque.empty()) out += ", opaque=" + quote_parameter(challenge.opaque);
  return out;
}

}  // namespace sipgw::auth
