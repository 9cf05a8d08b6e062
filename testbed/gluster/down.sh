#!/usr/bin/env bash
# down.sh DIR: stop everything up.sh DIR started and remove what it made
# outside DIR: unmount both mounts (lazily if busy), stop and delete the
# volume, stop every recorded process by its pid, delete the recorded network
# namespaces. Idempotent: safe to run twice, after a partial up.sh, or on a
# test bed whose processes died. Exits non-zero only if something is still
# left behind.
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
[ -d "$1" ] || exit 0
DIR=$(cd "$1" && pwd)
ST=$DIR/state
[ -d "$ST" ] || exit 0

left=0
warn() { echo "down.sh: $*" >&2; }

# ours PID: the process PID exists and is one of GlusterFS's (or our
# watchdog), so a recycled pid is never killed by mistake.
ours() {
  local cmd
  cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
  case "$cmd" in *gluster*|*watchdog*) return 0 ;; *) return 1 ;; esac
}

# stop PID...: SIGTERM, wait up to 5 s, then SIGKILL.
stop() {
  local pid live
  for pid in "$@"; do ours "$pid" && kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 100); do
    live=0
    for pid in "$@"; do ours "$pid" && live=1; done
    [ $live = 0 ] && return 0
    sleep 0.05
  done
  for pid in "$@"; do
    if ours "$pid"; then warn "pid $pid ignored SIGTERM: SIGKILL"; kill -KILL "$pid" 2>/dev/null; fi
  done
  sleep 0.1
}

# The watchdog first, unless it is the one running us.
if [ -s "$ST/watchdog" ]; then
  w=$(cat "$ST/watchdog")
  if [ "$w" != "$PPID" ] && [ "$w" != "$$" ]; then
    kill -TERM "$w" 2>/dev/null
  fi
  rm -f "$ST/watchdog"
fi

# Mounts: a normal unmount, or a lazy one if something is still busy in it.
is_mounted() { grep -q " $1 " /proc/self/mounts; }
if [ -f "$ST/mounts" ]; then
  while read -r mnt; do
    [ -n "$mnt" ] || continue
    if is_mounted "$mnt"; then
      timeout 10 umount "$mnt" 2>/dev/null || { warn "$mnt busy: lazy unmount"; umount -l "$mnt"; }
    fi
    is_mounted "$mnt" && { warn "$mnt is still mounted"; left=1; }
  done <"$ST/mounts"
fi

pids_of() { [ -f "$ST/pids" ] && awk -v n="$1" '$1 ~ n {print $2}' "$ST/pids"; }

# Clients exit when unmounted; make sure.
stop $(pids_of '^client-')

# The brick, then glusterd. (The volume is not stopped through the CLI: its
# definition lives in DIR, and this way a wedged glusterd cannot stall us.)
stop $(pids_of '^brick$')
stop $(pids_of '^glusterd$')

# Namespaces, last: nothing runs in them any more.
if [ -f "$ST/netns" ]; then
  while read -r ns; do
    [ -n "$ns" ] || continue
    if [ -e "/run/netns/$ns" ]; then
      # Anything still running inside (a test's child) goes first.
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
      ip netns del "$ns" 2>/dev/null || { warn "cannot delete namespace $ns"; left=1; }
    fi
  done <"$ST/netns"
fi

VOL=$(cat "$ST/volume" 2>/dev/null || true)
# What glusterd left under its compiled-in paths for this volume and brick.
if [ -n "$VOL" ]; then
  rm -rf "/var/run/gluster/vols/$VOL"
  sock=$(cat "$ST/brick-socket" 2>/dev/null || true)
  case "$sock" in /var/run/gluster/*.socket) rm -f "$sock" ;; esac
  BRICKLOG=/var/log/glusterfs/bricks/$(printf %s "${DIR#/}/brick" | tr / -).log
  [ -f "$BRICKLOG" ] && mv "$BRICKLOG" "$DIR/logs/brick.log" 2>/dev/null
fi

for pid in $(awk '{print $2}' "$ST/pids" 2>/dev/null); do
  ours "$pid" && { warn "pid $pid still running"; left=1; }
done
if [ $left = 0 ]; then
  rm -rf "$ST"
  # The brick holds GlusterFS's own metadata (.glusterfs, xattrs): drop it so
  # that DIR can be deleted by an ordinary user of it.
  rm -rf "$DIR/brick" "$DIR/glusterd"
fi
exit $left
