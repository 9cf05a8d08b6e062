#!/usr/bin/env bash
# up.sh DIR [pair|netns]: bring up a single-node Ceph cluster with a CephFS
# filesystem on this one machine, as root, without systemd or cephadm,
# keeping every piece of state under DIR, and mount the filesystem twice
# through ceph-fuse: DIR/mntA as client.hostA and DIR/mntB as client.hostB,
# each mount playing one host.
#
# The cluster is one monitor, one OSD keeping its data in memory (memstore),
# one MDS, and two pools of size 1. Nothing listens on the machine's network,
# so another cluster there is no obstacle:
#
#   pair   every daemon and both clients run in a network namespace of their
#          own, over its loopback.
#   netns  three network namespaces joined by a bridge that exists only inside
#          them: the cluster's, and one for each client host, A and B.
#          Cutting a client's link (net.sh) partitions that host.
#
# The mounts live in the caller's mount namespace.
#
# On success it writes DIR/env (KEY=VALUE lines, also printed) and records
# everything it started under DIR/state, which down.sh DIR reads to stop it
# all again by pid. On failure it runs down.sh itself and exits non-zero.
# crash.sh DIR kill|revive A|B kills a host's client as a crash would, and
# mounts it again.
#
# Environment:
#   SESSION_TIMEOUT  seconds after which the MDS drops a silent client and
#                 frees its locks (session_timeout and session_autoclose).
#                 Default 30, the least the MDS accepts; "default" leaves
#                 Ceph's own (60 and 300).
#   OWNER_PID     if set, a watchdog runs down.sh DIR as soon as this process
#                 is gone, so a crashed or killed test leaves nothing behind.
#   UP_TIMEOUT    seconds to wait for each daemon (default 60).
set -Eeuo pipefail

usage() { echo "usage: $0 DIR [pair|netns]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
TOPO=${2:-pair}
case "$TOPO" in pair|netns) ;; *) usage ;; esac
WAIT=${UP_TIMEOUT:-60}
SESSION=${SESSION_TIMEOUT:-30}

[ "$(id -u)" = 0 ] || { echo "up.sh: must run as root" >&2; exit 1; }
for cmd in ceph-mon ceph-osd ceph-mds ceph-fuse ceph monmaptool; do
  command -v "$cmd" >/dev/null || { echo "up.sh: $cmd not installed (apt-get install --no-install-recommends ceph-mon ceph-osd ceph-mds ceph-fuse ceph-common)" >&2; exit 1; }
done
for cmd in ip nsenter; do
  command -v "$cmd" >/dev/null || { echo "up.sh: $cmd is needed (iproute2, util-linux)" >&2; exit 1; }
done
if [ -e "$DIR/state" ]; then
  echo "up.sh: $DIR/state exists: a test bed is already up there (run down.sh $DIR first)" >&2
  exit 1
fi
[ -e /dev/fuse ] || { echo "up.sh: /dev/fuse is missing" >&2; exit 1; }

ST=$DIR/state
mkdir -p "$ST" "$DIR/logs" "$DIR/run" "$DIR/mon" "$DIR/osd" "$DIR/mds" "$DIR/mntA" "$DIR/mntB"
: >"$ST/pids"; : >"$ST/mounts"; : >"$ST/netns"

# shellcheck source=../lib.sh
. "$HERE/../lib.sh"
trap 'fail "command failed at line $LINENO"' ERR

# A short tag, unique per DIR, names the network namespace.
TAG=$(printf %s "$DIR" | md5sum | cut -c1-6)
NS=bcc$TAG

add_ns "$NS"
A_NS=$NS B_NS=$NS MON_IP=127.0.0.1 NETWORK=""
if [ "$TOPO" = netns ]; then
  A_NS=$NS-a B_NS=$NS-b
  add_ns "$A_NS"
  add_ns "$B_NS"
  MON_IP=10.214.$((0x${TAG:0:2} % 250)).1
  NET=${MON_IP%.1}
  NETWORK=$NET.0/24
  bridge "$NS" "$MON_IP" "$A_NS" "$B_NS"
fi

# spawn CMD...: run CMD in the namespace, replacing the shell, for commands
# started with & whose $! must be the pid of CMD itself.
spawn() { exec nsenter --net="/run/netns/$NS" "$@"; }
exec_in() { local ns=$1; shift; exec nsenter --net="/run/netns/$ns" "$@"; }
in_ns() { nsenter --net="/run/netns/$NS" "$@"; }

CONF=$DIR/ceph.conf
FSID=$(cat /proc/sys/kernel/random/uuid)
MON=$MON_IP:3300
cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon host = [v2:$MON]
mon initial members = a
# Only msgr2, on the namespace's loopback.
ms bind msgr1 = false
ms bind port min = 6900
ms bind port max = 7000
${NETWORK:+public network = $NETWORK}
auth cluster required = none
auth service required = none
auth client required = none
# One OSD: pools of one copy, placed across OSDs rather than hosts.
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
osd crush chooseleaf type = 0
# Everything a daemon or client writes stays under DIR.
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/logs/\$name.log
pid file =
mon data = $DIR/mon/\$id
osd data = $DIR/osd/\$id
mds data = $DIR/mds/\$id
keyring = /dev/null
crash dir = $DIR/run
mon cluster log to file = false
# A monitor that does not answer is an error after seconds, not minutes.
client mount timeout = 30

[osd]
# Data in the OSD's memory: no block device or file, nothing to clean up.
osd objectstore = memstore
memstore device bytes = 1073741824

[mds]
# The MDS flushes its journal and answers waiting clients on each tick. At
# Ceph's default of 5 s a rename on one client can stall for seconds and be
# seen by the other after as long; at 0.05 s both take milliseconds.
mds tick interval = 0.05

[client]
# The page cache of a ceph-fuse mount is not coherent with writes made
# through another mount to a file held open; without it, reads and writes
# are, and mmap fails with ENODEV (the bucket maps nothing on a shared
# filesystem).
fuse disable pagecache = true
EOF
echo "$CONF" >"$ST/conf"
C() { in_ns timeout 30 ceph -c "$CONF" "$@"; }

# The monitor.
monmaptool --create --fsid "$FSID" --addv a "[v2:$MON]" "$DIR/monmap" >/dev/null
in_ns ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" >>"$DIR/logs/mkfs.out" 2>&1
spawn ceph-mon -c "$CONF" -f -i a </dev/null >>"$DIR/logs/mon.out" 2>&1 &
MON_PID=$!
record_pid mon "$MON_PID"
alive() { [ -d "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
mon_ready() { alive "$MON_PID" || fail "ceph-mon exited"; C -s >/dev/null; }
wait_for "$WAIT" "the monitor" mon_ready

# The OSD.
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
OSD_ID=$(C osd new "$OSD_UUID")
mkdir -p "$DIR/osd/$OSD_ID"
in_ns timeout 60 ceph-osd -c "$CONF" -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" >>"$DIR/logs/mkfs.out" 2>&1
spawn ceph-osd -c "$CONF" -f -i "$OSD_ID" </dev/null >>"$DIR/logs/osd.out" 2>&1 &
OSD_PID=$!
record_pid osd "$OSD_PID"
osd_ready() { alive "$OSD_PID" || fail "ceph-osd exited"; C osd dump | grep -q "^osd.$OSD_ID up"; }
wait_for "$WAIT" "the OSD" osd_ready

# The filesystem and its MDS.
C osd pool create cephfs_meta 8 >/dev/null 2>&1
C osd pool create cephfs_data 8 >/dev/null 2>&1
C fs new cachefs cephfs_meta cephfs_data >/dev/null 2>&1
mkdir -p "$DIR/mds/a"
spawn ceph-mds -c "$CONF" -f -i a </dev/null >>"$DIR/logs/mds.out" 2>&1 &
MDS_PID=$!
record_pid mds "$MDS_PID"
mds_ready() { alive "$MDS_PID" || fail "ceph-mds exited"; C mds stat 2>/dev/null | grep -q "up:active"; }
wait_for "$WAIT" "the MDS" mds_ready
# How long the MDS keeps the session (and the locks) of a client that has
# gone silent: a crashed host's locks are held this long.
if [ "$SESSION" != default ]; then
  C fs set cachefs session_timeout "$SESSION" >/dev/null 2>&1
  C fs set cachefs session_autoclose "$SESSION" >/dev/null 2>&1
fi

# The clients, one per host, in the foreground so that $! is their pid.
is_mounted() { grep -q " $1 fuse.ceph-fuse " /proc/self/mounts; }
mount_host() { # NAME NS
  local name=$1 mnt=$DIR/mnt$1
  exec_in "$2" ceph-fuse -c "$CONF" -f -n "client.host$name" "$mnt" </dev/null >>"$DIR/logs/client-$name.out" 2>&1 &
  record_pid "client-$name" $!
  grep -qx "$mnt" "$ST/mounts" || echo "$mnt" >>"$ST/mounts"
  wait_for "$WAIT" "mount $mnt" is_mounted "$mnt"
}
mount_host A "$A_NS"
mount_host B "$B_NS"
# Both mounts see one filesystem.
echo "$FSID" >"$DIR/mntA/.testbed"
[ "$(cat "$DIR/mntB/.testbed")" = "$FSID" ] || fail "the two mounts do not share a filesystem"

# The watchdog: whatever becomes of the owner, nothing stays behind.
if [ -n "${OWNER_PID:-}" ]; then
  setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 0.5; done; exec "$2" "$3"' \
    watchdog "$OWNER_PID" "$HERE/down.sh" "$DIR" </dev/null >>"$DIR/logs/watchdog.out" 2>&1 &
  echo "$!" >"$ST/watchdog"
fi

trap - ERR
{
  echo "TOPOLOGY=$TOPO"
  echo "FILESYSTEM=cachefs"
  echo "CONF=$CONF"
  echo "MNT_A=$DIR/mntA"
  echo "MNT_B=$DIR/mntB"
  echo "MDS_ASOK=$DIR/run/mds.a.asok"
  echo "SESSION_TIMEOUT=$SESSION"
  echo "PIDS=\"$(awk '{print $2}' "$ST/pids" | tr '\n' ' ' | sed 's/ $//')\""
  echo "NS_SERVER=$NS"
  if [ "$TOPO" = netns ]; then
    echo "NS_A=$A_NS"
    echo "NS_B=$B_NS"
    echo "LINK=eth0"
  fi
} >"$DIR/env"
cat "$DIR/env"
