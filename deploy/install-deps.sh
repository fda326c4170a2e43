#!/usr/bin/env bash
# Installs every Debian 12 package sipgw builds, tests and runs with.
# `install-deps.sh test` adds what only the tests need: clang 16 and its
# libFuzzer runtime for the fuzz targets (clang 14 cannot compile
# std::expected from GCC 12's library; see CMakeLists.txt), and the openssl
# tool that makes the HTTPS postback test's certificate.
# `install-deps.sh bench` adds what tests/bench/race.sh needs: Kamailio's
# SQLite and uuid modules, and curl.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
packages=(
  build-essential cmake pkg-config
  libsofia-sip-ua-dev libboost1.81-dev libsqlite3-dev libssl-dev
  prometheus-cpp-dev libcli11-dev nlohmann-json3-dev libspdlog-dev
  libhowardhinnant-date-dev tzdata uuid-dev
  libgtest-dev libgmock-dev
  sip-tester prometheus kamailio
)
if [ "${1:-}" = test ]; then packages+=(clang-16 libclang-rt-16-dev openssl); fi
if [ "${1:-}" = bench ]; then packages+=(kamailio-sqlite-modules kamailio-extra-modules curl); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
