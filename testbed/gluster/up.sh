#!/usr/bin/env bash
# up.sh DIR [pair|netns]: bring up a GlusterFS test bed on this one machine,
# as root, without systemd, keeping every piece of state under DIR.
#
#   pair   glusterd, a one-brick volume, mounted twice (DIR/mntA and
#          DIR/mntB): each mount plays one host. Server and clients share a
#          network namespace of their own, over its loopback.
#   netns  three network namespaces joined by a bridge that exists only inside
#          them: a server (glusterd and the brick) and two client hosts, A and
#          B, each with its own GlusterFS client process serving DIR/mntA or
#          DIR/mntB. Cutting a client's link (net.sh) partitions that host.
#
# Both mounts live in the caller's mount namespace; the client processes of
# the netns topology only talk through their own network namespace.
#
# On success it writes DIR/env (KEY=VALUE lines, also printed) and records
# everything it started under DIR/state, which down.sh DIR reads to stop it
# all again by pid. On failure it runs down.sh itself and exits non-zero.
#
# Environment:
#   PARTITION_TIMEOUT  seconds after which the server drops a silent client
#                 (and its locks) and a client gives up on a silent server
#                 (default: GlusterFS's 42). Sets network.ping-timeout,
#                 server.tcp-user-timeout and the server's keepalives.
#   OWNER_PID     if set, a watchdog runs down.sh DIR as soon as this process
#                 is gone, so a crashed or killed test leaves nothing behind.
#   UP_TIMEOUT    seconds to wait for each daemon (default 30).
set -Eeuo pipefail

usage() { echo "usage: $0 DIR [pair|netns]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
TOPO=${2:-pair}
case "$TOPO" in pair|netns) ;; *) usage ;; esac
WAIT=${UP_TIMEOUT:-30}

[ "$(id -u)" = 0 ] || { echo "up.sh: must run as root" >&2; exit 1; }
for cmd in glusterd gluster glusterfs; do
  command -v "$cmd" >/dev/null || { echo "up.sh: $cmd not installed (apt-get install glusterfs-server glusterfs-client)" >&2; exit 1; }
done
if [ -e "$DIR/state" ]; then
  echo "up.sh: $DIR/state exists: a test bed is already up there (run down.sh $DIR first)" >&2
  exit 1
fi
[ -e /dev/fuse ] || { echo "up.sh: /dev/fuse is missing" >&2; exit 1; }

ST=$DIR/state
mkdir -p "$ST" "$DIR/glusterd" "$DIR/logs" "$DIR/brick" "$DIR/mntA" "$DIR/mntB"
: >"$ST/pids"; : >"$ST/mounts"; : >"$ST/netns"

# shellcheck source=../lib.sh
. "$HERE/../lib.sh"
trap 'fail "command failed at line $LINENO"' ERR

# A short tag, unique per DIR, names the volume and the namespaces.
TAG=$(printf %s "$DIR" | md5sum | cut -c1-6)
VOL=bc$TAG
SOCK=$DIR/glusterd.socket
echo "$VOL" >"$ST/volume"
echo "$SOCK" >"$ST/socket"
echo "$TOPO" >"$ST/topology"


# in NS CMD...: run CMD in network namespace NS (or here, if NS is empty),
# staying in this mount namespace so that mounts are seen by everyone.
in_ns() {
  local ns=$1; shift
  if [ -n "$ns" ]; then nsenter --net="/run/netns/$ns" "$@"; else "$@"; fi
}

# spawn NS CMD...: like in_ns, replacing the shell, for commands started
# with & whose $! must be the pid of CMD itself.
spawn() {
  local ns=$1; shift
  if [ -n "$ns" ]; then exec nsenter --net="/run/netns/$ns" "$@"; else exec "$@"; fi
}

# Namespaces first: a namespace made after a mount would keep a copy of it.
# The server always gets a network namespace of its own, so that nothing
# listens on the machine's network and a glusterd already running there is
# no obstacle.
command -v ip >/dev/null || fail "ip (iproute2) is needed"
command -v nsenter >/dev/null || fail "nsenter (util-linux) is needed"
SRV_NS=bcg$TAG-srv A_NS="" B_NS=""
add_ns "$SRV_NS"
if [ "$TOPO" = netns ]; then
  A_NS=bcg$TAG-a B_NS=bcg$TAG-b
  add_ns "$A_NS"
  add_ns "$B_NS"
  SERVER=10.213.$((0x${TAG:0:2} % 250)).1
  bridge "$SRV_NS" "$SERVER" "$A_NS" "$B_NS"
else
  # Both clients run in the server's namespace, over its loopback.
  A_NS=$SRV_NS B_NS=$SRV_NS
  SERVER=127.0.0.2 # the CLI refuses localhost and 127.0.0.1 as brick hosts
fi

# glusterd with its own working directory, socket and log, in the foreground
# (-N) so that $! is its pid.
# The option groups, and the hook directories without their scripts (they
# would start Samba, CTDB or NFS-Ganesha integrations and outlive glusterd).
cp -r /var/lib/glusterd/groups "$DIR/glusterd/" 2>/dev/null || true
(cd /var/lib/glusterd && find hooks -type d 2>/dev/null) | while read -r d; do mkdir -p "$DIR/glusterd/$d"; done
sed -e "s|/var/lib/glusterd|$DIR/glusterd|" \
  -e "s|^end-volume|    option glusterd-sockfile $SOCK\nend-volume|" \
  /etc/glusterfs/glusterd.vol >"$DIR/glusterd.vol"
grep -q "glusterd-sockfile $SOCK" "$DIR/glusterd.vol" || fail "cannot make $DIR/glusterd.vol"
spawn "$SRV_NS" glusterd -N -f "$DIR/glusterd.vol" -l "$DIR/logs/glusterd.log" \
  </dev/null >>"$DIR/logs/glusterd.out" 2>&1 &
GLUSTERD=$!
record_pid glusterd "$GLUSTERD"
G() { in_ns "$SRV_NS" gluster --mode=script --glusterd-sock="$SOCK" "$@"; }
glusterd_ready() { kill -0 "$GLUSTERD" 2>/dev/null || fail "glusterd exited"; G peer status; }
wait_for "$WAIT" glusterd glusterd_ready

G volume create "$VOL" "$SERVER:$DIR/brick" force >/dev/null
# Options that make the volume safe for a bucket shared by several hosts
# (see docs/shared-filesystems.md).
for o in open-behind quick-read stat-prefetch write-behind flush-behind; do
  G volume set "$VOL" "performance.$o" off >/dev/null
done
# How long a host cut off from the server keeps its locks (the brick drops a
# silent connection after server.tcp-user-timeout, probing an idle one with
# keepalives), and how long its own operations hang before they fail
# (network.ping-timeout). GlusterFS's default is 42 s for both.
if [ -n "${PARTITION_TIMEOUT:-}" ]; then
  T=$PARTITION_TIMEOUT
  G volume set "$VOL" network.ping-timeout "$T" >/dev/null
  G volume set "$VOL" server.tcp-user-timeout "$T" >/dev/null
  G volume set "$VOL" server.keepalive-time "$(( T > 2 ? T / 2 : 1 ))" >/dev/null
  G volume set "$VOL" server.keepalive-interval 1 >/dev/null
  G volume set "$VOL" server.keepalive-count 3 >/dev/null
fi
G volume start "$VOL" >/dev/null

# The brick process is glusterd's child; record its pid from its pid file.
BRICK_PIDFILE=/var/run/gluster/vols/$VOL/$SERVER-$(printf %s "${DIR#/}/brick" | tr / -).pid
wait_for "$WAIT" "the brick" test -s "$BRICK_PIDFILE"
BRICK=$(cat "$BRICK_PIDFILE")
record_pid brick "$BRICK"
# Its socket, named in its command line, is removed by down.sh.
tr '\0' '\n' <"/proc/$BRICK/cmdline" | grep -A1 -x -- -S | tail -1 >"$ST/brick-socket" || true

# The clients, one per host, also in the foreground so that $! is their pid.
mount_host() { # NAME NS MOUNTPOINT
  local name=$1 ns=$2 mnt=$3
  spawn "$ns" glusterfs -N --volfile-server="$SERVER" --volfile-id="$VOL" \
    --log-file="$DIR/logs/client-$name.log" "$mnt" </dev/null >>"$DIR/logs/client-$name.out" 2>&1 &
  record_pid "client-$name" $!
  echo "$mnt" >>"$ST/mounts"
  wait_for "$WAIT" "mount $mnt" is_gluster_mount "$mnt"
}
is_gluster_mount() { grep -q " $1 fuse.glusterfs " /proc/self/mounts; }
mount_host A "$A_NS" "$DIR/mntA"
mount_host B "$B_NS" "$DIR/mntB"

# The watchdog: whatever becomes of the owner, nothing stays behind.
if [ -n "${OWNER_PID:-}" ]; then
  setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 0.5; done; exec "$2" "$3"' \
    watchdog "$OWNER_PID" "$HERE/down.sh" "$DIR" </dev/null >>"$DIR/logs/watchdog.out" 2>&1 &
  echo "$!" >"$ST/watchdog"
fi

trap - ERR
{
  echo "TOPOLOGY=$TOPO"
  echo "VOLUME=$VOL"
  echo "SERVER=$SERVER"
  echo "MNT_A=$DIR/mntA"
  echo "MNT_B=$DIR/mntB"
  echo "GLUSTERD_PID=$GLUSTERD"
  echo "GLUSTERD_SOCK=$SOCK"
  echo "PIDS=\"$(awk '{print $2}' "$ST/pids" | tr '\n' ' ' | sed 's/ $//')\""
  echo "NS_SERVER=$SRV_NS"
  if [ "$TOPO" = netns ]; then
    echo "NS_A=$A_NS"
    echo "NS_B=$B_NS"
    echo "LINK=eth0"
  fi
} >"$DIR/env"
cat "$DIR/env"
