#!/usr/bin/env bash
# crash.sh DIR kill|evict|revive A|B: a host crash in the test bed brought
# up by "up.sh DIR".
#
#   kill    SIGKILL the host's ceph-fuse, as a crash of the host would stop
#           it: its mount answers ENOTCONN from then on, and the MDS keeps
#           its session, caps and locks until the session times out (up.sh's
#           SESSION_TIMEOUT).
#   evict   evict the host's session through the MDS's admin socket, as an
#           operator who knows the host is gone would: its locks are freed
#           at once.
#   revive  unmount the dead mount and mount it again with a new client:
#           the host has rebooted.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 DIR kill|evict|revive A|B" >&2; exit 2; }
DIR=$(cd "$1" && pwd)
ST=$DIR/state
[ -f "$DIR/env" ] && [ -d "$ST" ] || { echo "crash.sh: no test bed in $DIR" >&2; exit 1; }
# shellcheck disable=SC1091
. "$DIR/env"
case "$3" in A|B) H=$3 ;; *) echo "crash.sh: host must be A or B" >&2; exit 2 ;; esac
MNT=$DIR/mnt$H

# The host's client: the last one recorded (revive records a new one).
client_pid() { awk -v n="client-$H" '$1 == n {p = $2} END {print p}' "$ST/pids"; }
# client_alive PID: PID is a live ceph-fuse (not a zombie, nor a recycled
# pid: the machine's reaper may take seconds, and pids are reused).
client_alive() {
  [ -n "$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null &&
    { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null | grep -qF "ceph-fuse -c $CONF "
}
is_mounted() { grep -q " $1 fuse.ceph-fuse " /proc/self/mounts; }

case "$2" in
kill)
  pid=$(client_pid)
  client_alive "$pid" || { echo "crash.sh: host $H's client is not running" >&2; exit 1; }
  kill -KILL "$pid"
  for _ in $(seq 200); do client_alive "$pid" || exit 0; sleep 0.05; done
  echo "crash.sh: ceph-fuse $pid still running" >&2; exit 1
  ;;
evict)
  out=$(ceph --admin-daemon "$MDS_ASOK" session evict "client_metadata.entity_id=host$H" 2>&1) || {
    echo "crash.sh: evict: $out" >&2; exit 1; }
  ;;
revive)
  pid=$(client_pid)
  if client_alive "$pid"; then echo "crash.sh: host $H's client $pid is still running" >&2; exit 1; fi
  if grep -q " $MNT " /proc/self/mounts; then umount -l "$MNT"; fi
  ns=NS_$H
  nsenter --net="/run/netns/${!ns:-$NS_SERVER}" ceph-fuse -c "$CONF" -f -n "client.host$H" "$MNT" \
    </dev/null >>"$DIR/logs/client-$H.out" 2>&1 &
  echo "client-$H $!" >>"$ST/pids"
  for _ in $(seq 600); do
    if is_mounted "$MNT"; then exit 0; fi
    # (Just started, it may not have become ceph-fuse yet: any live process.)
    [ -d "/proc/$!" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$!/status" 2>/dev/null ||
      { echo "crash.sh: ceph-fuse exited; see $DIR/logs" >&2; exit 1; }
    sleep 0.05
  done
  echo "crash.sh: timed out mounting $MNT" >&2; exit 1
  ;;
*) echo "crash.sh: kill, evict or revive, not $2" >&2; exit 2 ;;
esac
