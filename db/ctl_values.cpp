#include "db/ctl_values.h"

#include <date/date.h>

#include <chrono>
#include <sstream>

namespace sipgw::db {

std::expected<CapChange, std::string> parse_cap(const std::string& flag, const std::string& text) {
  if (text.empty()) return CapChange{};
  if (text == "none") return CapChange{std::optional<std::int64_t>{}};
  try {
    std::size_t used = 0;
    long long v = std::stoll(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
    return CapChange{std::optional<std::int64_t>{v}};
  } catch (const std::exception&) {
    return std::unexpected(flag + " '" + text + "' is not a whole number or 'none'");
  }
}

std::expected<std::int64_t, std::string> parse_time_ms(const std::string& flag, const std::string& text) {
  if (!text.empty() && text.size() < 12 && text.find_first_not_of("0123456789") == std::string::npos) {
    return std::stoll(text) * 1000;
  }
  for (const char* format : {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"}) {
    std::istringstream in(text.ends_with("Z") ? text.substr(0, text.size() - 1) : text);
    date::sys_time<std::chrono::seconds> t;
    in >> date::parse(format, t);
    if (!in.fail() && in.peek() == EOF) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    }
  }
  return std::unexpected(flag + " '" + text + "' is not Unix seconds or YYYY-MM-DD[THH:MM[:SS]] (UTC)");
}

std::string format_time(std::int64_t ms) {
  using namespace std::chrono;
  return date::format("%FT%TZ", floor<seconds>(sys_time<milliseconds>(milliseconds(ms))));
}

}  // namespace sipgw::db
