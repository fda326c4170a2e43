#!/usr/bin/env bash
# One command: install the dependencies, build, and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
bash deploy/build.sh
cd build
ctest --output-on-failure -j"${SIPGW_TEST_JOBS:-2}" --timeout 300
