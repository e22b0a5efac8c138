#!/bin/sh
# One agent's vsock connection, relayed to the manager's Unix socket of its CID.
#
# Started by the manager's bridge for each connection:
#   socat VSOCK-LISTEN:9997,fork,... EXEC:"<this> <socket dir> <socat>",nofork
# stdin and stdout are the accepted vsock connection itself (nofork), and
# socat has set SOCAT_PEERADDR to the peer's CID as accept() returned it: the
# kernel's word (vhost-vsock stamps every packet with the guest's CID), never
# the guest's bytes. The socket of that CID exists only while a VM of this
# manager holds the CID, so a peer no VM holds is refused.
set -eu
dir=$1
socat=$2
cid=${SOCAT_PEERADDR:-}
case $cid in
'' | *[!0-9]* | 0*)
  echo "agent-vsock-bridge: no CID in SOCAT_PEERADDR" >&2
  exit 2
  ;;
esac
if [ ${#cid} -gt 10 ]; then
  echo "agent-vsock-bridge: CID $cid is out of range" >&2
  exit 2
fi
exec "$socat" STDIO "UNIX-CONNECT:$dir/cid-$cid.sock"
