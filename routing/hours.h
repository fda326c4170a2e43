// Buyer business hours, in the buyer's own local time.
//
// Syntax: clauses separated by ';', each "DAYS RANGES":
//   DAYS   = day | day-day | day,day,... | daily      (mon tue wed thu fri sat sun)
//   RANGES = HH:MM-HH:MM[,HH:MM-HH:MM...]             (24:00 allowed as an end)
// e.g. "mon-fri 09:00-12:00,13:00-17:00; sat 10:00-14:00".
// A range whose end is before its start runs past midnight into the next
// day: "fri 22:00-02:00" is open Friday 22:00 to Saturday 02:00.
// An empty string means always open.
#pragma once

#include <array>
#include <expected>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sipgw::routing {

class WeeklyHours {
 public:
  static WeeklyHours always_open();
  bool is_always_open() const { return always_; }
  // weekday: 0 = Sunday ... 6 = Saturday; minute: 0 ... 1439.
  bool is_open(unsigned weekday, unsigned minute_of_day) const;

 private:
  friend std::expected<WeeklyHours, std::string> parse_hours(std::string_view);
  bool always_ = false;
  // Per weekday, half-open [start, end) minute ranges.
  std::array<std::vector<std::pair<unsigned, unsigned>>, 7> open_{};
};

std::expected<WeeklyHours, std::string> parse_hours(std::string_view text);

}  // namespace sipgw::routing
