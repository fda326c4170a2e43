#!/usr/bin/env bash
# Configures and builds sipgw into ./build (SIPGW_BUILD_DIR) with warnings as
# errors; SIPGW_CMAKE_FLAGS adds configure options (deploy/test.sh uses it for
# the sanitizer build).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${SIPGW_BUILD_DIR:-build}"
# shellcheck disable=SC2086 # the flags are words on purpose
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIPGW_WERROR=ON ${SIPGW_CMAKE_FLAGS:-} >/dev/null
cmake --build "$dir" -j"${SIPGW_JOBS:-2}"
