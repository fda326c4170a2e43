// Helpers for the libFuzzer targets: split the fuzzer's bytes into fields,
// and fail loudly when a property does not hold (libFuzzer stops on abort
// and keeps the input that caused it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace sipgw::fuzz {

// The input as `count` fields separated by '\n' (missing ones empty; the
// last takes the rest, newlines included).
inline std::vector<std::string> fields(const std::uint8_t* data, std::size_t size, std::size_t count) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> out;
  while (out.size() + 1 < count) {
    const auto at = rest.find('\n');
    out.emplace_back(rest.substr(0, at));
    rest = at == std::string_view::npos ? std::string_view() : rest.substr(at + 1);
  }
  out.emplace_back(rest);
  return out;
}

inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

[[noreturn]] inline void violated(const char* property, std::string_view detail = {}) {
  std::fprintf(stderr, "property violated: %s [%.*s]\n", property, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

inline void require(bool holds, const char* property, std::string_view detail = {}) {
  if (!holds) violated(property, detail);
}

inline bool has_control(std::string_view s, bool allow_tab) {
  for (unsigned char c : s) {
    if ((c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7f) return true;
  }
  return false;
}

}  // namespace sipgw::fuzz
