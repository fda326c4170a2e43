// Reading secrets for sipgwctl: never from argv (visible in ps and shell
// history), always from standard input or an echo-less TTY prompt.
#pragma once

#include <expected>
#include <string>

namespace sipgw::db {

// From a TTY: prompts on stderr with echo off (twice when confirm is set).
// Otherwise: the first line of standard input, without its line ending.
std::expected<std::string, std::string> read_secret(const std::string& prompt, bool confirm);

}  // namespace sipgw::db
