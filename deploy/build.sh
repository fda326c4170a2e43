#!/usr/bin/env bash
# Configures and builds sipgw into ./build with warnings as errors.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIPGW_WERROR=ON >/dev/null
cmake --build build -j"${SIPGW_JOBS:-2}"
