#include "db/secret_input.h"

#include <termios.h>
#include <unistd.h>

#include <iostream>

namespace sipgw::db {

namespace {

std::expected<std::string, std::string> read_line_no_echo(const std::string& prompt) {
  std::cerr << prompt << std::flush;
  termios saved{};
  tcgetattr(STDIN_FILENO, &saved);
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string line;
  bool ok = static_cast<bool>(std::getline(std::cin, line));
  tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  std::cerr << "\n";
  if (!ok) return std::unexpected("no password given");
  return line;
}

}  // namespace

std::expected<std::string, std::string> read_secret(const std::string& prompt, bool confirm) {
  if (isatty(STDIN_FILENO)) {
    auto first = read_line_no_echo(prompt);
    if (!first || !confirm) return first;
    auto second = read_line_no_echo("Again: ");
    if (!second) return second;
    if (*first != *second) return std::unexpected("the two passwords differ");
    return first;
  }
  std::string line;
  if (!std::getline(std::cin, line)) return std::unexpected("no password on standard input");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace sipgw::db
