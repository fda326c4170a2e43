#!/usr/bin/env bash
# One command: install the dependencies, build, provision a demo database and
# start the gateway on loopback.
#
# The defaults are the README's; tests/deploy/demo_test.sh runs this very
# script on other ports (SIPGW_DEMO_SIP_PORT, SIPGW_DEMO_BUYER_PORT,
# SIPGW_DEMO_METRICS_PORT), in another folder (SIPGW_DEMO_DIR) and, since the
# test suite has just built everything, without the install and build steps
# (SIPGW_DEMO_SKIP_BUILD=1).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${SIPGW_DEMO_DIR:-demo}"
sip_port="${SIPGW_DEMO_SIP_PORT:-5060}"
buyer_port="${SIPGW_DEMO_BUYER_PORT:-5070}"
metrics_port="${SIPGW_DEMO_METRICS_PORT:-9469}"
if [ "${SIPGW_DEMO_SKIP_BUILD:-0}" != 1 ]; then
  bash deploy/install-deps.sh
  bash deploy/build.sh
fi
mkdir -p "$dir"
bash deploy/provision-demo.sh "$dir/sipgw.db" "$buyer_port"
echo
echo "Demo database: $dir/sipgw.db (inspect it with: build/db/sipgwctl --db $dir/sipgw.db buyer list)"
echo "Starting sipgw on udp+tcp 127.0.0.1:$sip_port, metrics on http://127.0.0.1:$metrics_port/metrics (Ctrl-C drains and stops it)."
echo "Place a demo call from another shell:"
echo "  sipp -sn uas -p $buyer_port -m 1 -bg; sipp -sn uac -s +18882223333 127.0.0.1:$sip_port -m 1"
echo "Then see its CDR:"
echo "  build/db/sipgwctl --db $dir/sipgw.db calls list"
exec build/gateway/sipgw --db "$dir/sipgw.db" --listen "udp:127.0.0.1:$sip_port" --listen "tcp:127.0.0.1:$sip_port" \
  --metrics "127.0.0.1:$metrics_port"
