#!/usr/bin/env bash
# net.sh DIR cut|heal A|B: partition a client host of the netns test bed
# brought up by "up.sh DIR netns" from the server, or join it again, by
# taking its only link down or up inside its own namespace.
#
# While cut, the host's operations on its mount hang, then fail with ENOTCONN
# once network.ping-timeout has passed; the server drops the host's locks
# after server.tcp-user-timeout (see up.sh's PARTITION_TIMEOUT). After heal
# the client reconnects by itself within a few seconds.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 DIR cut|heal A|B" >&2; exit 2; }
DIR=$(cd "$1" && pwd)
[ -f "$DIR/env" ] || { echo "net.sh: no test bed in $DIR" >&2; exit 1; }
# shellcheck disable=SC1091
. "$DIR/env"
[ "${TOPOLOGY:-}" = netns ] || { echo "net.sh: $DIR is not a netns test bed" >&2; exit 1; }
case "$3" in A) NS=$NS_A ;; B) NS=$NS_B ;; *) echo "net.sh: host must be A or B" >&2; exit 2 ;; esac
case "$2" in
  cut) ip -n "$NS" link set "$LINK" down ;;
  heal) ip -n "$NS" link set "$LINK" up ;;
  *) echo "net.sh: cut or heal, not $2" >&2; exit 2 ;;
esac
