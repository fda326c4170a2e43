#!/usr/bin/env bash
# One command: install the dependencies, build, and run every test; then
# build sipgw's code again with AddressSanitizer + UndefinedBehaviorSanitizer
# and run the unit and integration tests against that build too (a report
# aborts the process, so the test that caused it fails). Between the two,
# the libFuzzer targets (tests/fuzz) are built with clang 16 and each runs
# for 20 s.
# SIPGW_SANITIZE=0 skips the sanitizer pass (it roughly doubles the time),
# SIPGW_FUZZ=0 the fuzz targets.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh test
bash deploy/build.sh
(cd build && ctest --output-on-failure -j"${SIPGW_TEST_JOBS:-2}" --timeout 300)
if [ "${SIPGW_FUZZ:-1}" != 0 ]; then
  SIPGW_BUILD_DIR=build-fuzz SIPGW_CMAKE_FLAGS="-DSIPGW_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-16 -DCMAKE_C_COMPILER=clang-16" \
    bash deploy/build.sh
  (cd build-fuzz && ctest --output-on-failure -j"${SIPGW_TEST_JOBS:-2}" -L fuzz)
fi
if [ "${SIPGW_SANITIZE:-1}" != 0 ]; then
  # -O1 -g1: what the sanitizers need (line numbers in reports) at half the
  # compile time of -O2 -g.
  SIPGW_BUILD_DIR=build-asan SIPGW_CMAKE_FLAGS="-DSIPGW_SANITIZE=ON -DCMAKE_BUILD_TYPE=Sanitize" bash deploy/build.sh
  # Sofia and the other libraries are not instrumented; their leaks at exit
  # are not ours to fix, so LeakSanitizer stays off. Tests that measure RSS
  # are left out: ASan's quarantine keeps freed memory on purpose. So is the
  # minute-long postback outage test: it waits on the clock (backoff), runs
  # last and alone, and the normal pass covers it.
  export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  (cd build-asan && ctest --output-on-failure -j"${SIPGW_TEST_JOBS:-2}" --timeout 300 -E '^deploy\.|RefusedRequestsKeepNothing|AReceiverDownForAMinute|RingingSeventySeconds')
fi
