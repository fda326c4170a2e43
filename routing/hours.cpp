#include "routing/hours.h"

#include <cctype>

namespace sipgw::routing {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

int parse_day(std::string_view s) {
  static constexpr std::string_view kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  std::string l;
  for (char c : s) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (int i = 0; i < 7; ++i) {
    if (l == kDays[i]) return i;
  }
  return -1;
}

// "HH:MM" -> minutes; 24:00 allowed only where allow_24 (range ends).
int parse_time(std::string_view s, bool allow_24) {
  if (s.size() != 5 || s[2] != ':') return -1;
  for (int i : {0, 1, 3, 4}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return -1;
  }
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59) return -1;
  if (h == 24 && m == 0 && allow_24) return 1440;
  if (h > 23) return -1;
  return h * 60 + m;
}

}  // namespace

WeeklyHours WeeklyHours::always_open() {
  WeeklyHours h;
  h.always_ = true;
  return h;
}

bool WeeklyHours::is_open(unsigned weekday, unsigned minute_of_day) const {
  if (always_) return true;
  if (weekday > 6) return false;
  for (auto [start, end] : open_[weekday]) {
    if (minute_of_day >= start && minute_of_day < end) return true;
  }
  return false;
}

std::expected<WeeklyHours, std::string> parse_hours(std::string_view text) {
  const std::string original(text);
  auto fail = [&](const std::string& why) {
    return std::unexpected("hours '" + original + "' do not parse: " + why);
  };
  if (trim(text).empty()) return WeeklyHours::always_open();
  WeeklyHours hours;
  while (!text.empty()) {
    auto semi = text.find(';');
    auto clause = trim(text.substr(0, semi));
    text = semi == std::string_view::npos ? std::string_view{} : text.substr(semi + 1);
    if (clause.empty()) return fail("empty clause");
    auto space = clause.find_first_of(" \t");
    if (space == std::string_view::npos) return fail("'" + std::string(clause) + "' needs days and times");
    auto days_text = clause.substr(0, space);
    auto ranges_text = trim(clause.substr(space));

    std::array<bool, 7> days{};
    if (days_text == "daily") {
      days.fill(true);
    } else {
      while (!days_text.empty()) {
        auto comma = days_text.find(',');
        auto item = days_text.substr(0, comma);
        days_text = comma == std::string_view::npos ? std::string_view{} : days_text.substr(comma + 1);
        auto dash = item.find('-');
        int first = parse_day(item.substr(0, dash));
        int last = dash == std::string_view::npos ? first : parse_day(item.substr(dash + 1));
        if (first < 0 || last < 0) return fail("unknown day in '" + std::string(item) + "' (use mon tue wed thu fri sat sun)");
        for (int d = first;; d = (d + 1) % 7) {  // "sat-mon" wraps over the weekend
          days[d] = true;
          if (d == last) break;
        }
      }
    }

    while (!ranges_text.empty()) {
      auto comma = ranges_text.find(',');
      auto range = trim(ranges_text.substr(0, comma));
      ranges_text = comma == std::string_view::npos ? std::string_view{} : ranges_text.substr(comma + 1);
      auto dash = range.find('-');
      if (dash == std::string_view::npos) return fail("'" + std::string(range) + "' is not HH:MM-HH:MM");
      int start = parse_time(trim(range.substr(0, dash)), false);
      int end = parse_time(trim(range.substr(dash + 1)), true);
      if (start < 0 || end < 0) return fail("'" + std::string(range) + "' is not HH:MM-HH:MM");
      if (start == end) return fail("'" + std::string(range) + "' is empty");
      for (int d = 0; d < 7; ++d) {
        if (!days[d]) continue;
        if (start < end) {
          hours.open_[d].emplace_back(start, end);
        } else {
          hours.open_[d].emplace_back(start, 1440);
          if (end > 0) hours.open_[(d + 1) % 7].emplace_back(0, end);
        }
      }
    }
  }
  return hours;
}

}  // namespace sipgw::routing
