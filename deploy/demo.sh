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
if [ ! -x build/gateway/sipgw ]; then
  echo "The sipgw daemon is not built yet (it arrives with the call-path issue): provisioning only, no calls served."
  exit 0
fi
exec build/gateway/sipgw --db demo/sipgw.db --listen udp:127.0.0.1:5060 --listen tcp:127.0.0.1:5060 \
  --metrics 127.0.0.1:9090
