#!/usr/bin/env bash
# One command: install the dependencies, build, provision a demo database and
# start the gateway on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
bash deploy/build.sh
mkdir -p demo
bash deploy/provision-demo.sh demo/sipgw.db
echo
echo "Demo database: demo/sipgw.db (inspect it with: build/db/sipgwctl --db demo/sipgw.db buyer list)"
echo "Starting sipgw on udp+tcp 127.0.0.1:5060, metrics on http://127.0.0.1:9469/metrics (Ctrl-C drains and stops it)."
echo "Place a demo call from another shell:"
echo "  sipp -sn uas -p 5070 -m 1 -bg; sipp -sn uac -s +18882223333 127.0.0.1:5060 -m 1"
exec build/gateway/sipgw --db demo/sipgw.db --listen udp:127.0.0.1:5060 --listen tcp:127.0.0.1:5060 \
  --metrics 127.0.0.1:9469
