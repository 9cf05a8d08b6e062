#!/usr/bin/env bash
# down.sh DIR: stop everything up.sh DIR (and crash.sh DIR) started: unmount
# both mounts (lazily if busy or dead), stop every recorded process by its
# pid, delete the network namespace. Idempotent: safe to run twice, after a
# partial up.sh, or on a test bed whose processes died. Exits non-zero only
# if something is still left behind.
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
[ -d "$1" ] || exit 0
DIR=$(cd "$1" && pwd)
ST=$DIR/state
[ -d "$ST" ] || exit 0

left=0
warn() { echo "down.sh: $*" >&2; }

# ours PID: the process PID is alive and one of this test bed's Ceph
# processes (their command lines name DIR's ceph.conf) or its watchdog, so a
# recycled pid, or another test bed's process, is never killed by mistake. A
# process killed but not yet reaped (a zombie) is gone.
ours() {
  local cmd
  grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null && return 1
  cmd=$( { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null) || return 1
  case "$cmd" in *ceph-*"$DIR/ceph.conf"*|*watchdog*"$DIR"*) return 0 ;; *) return 1 ;; esac
}

# stop SIGNAL PID...: send SIGNAL, wait up to 5 s, then SIGKILL.
stop() {
  local sig=$1 pid live; shift
  for pid in "$@"; do ours "$pid" && kill "-$sig" "$pid" 2>/dev/null; done
  for _ in $(seq 100); do
    live=0
    for pid in "$@"; do ours "$pid" && live=1; done
    [ $live = 0 ] && return 0
    sleep 0.05
  done
  for pid in "$@"; do
    if ours "$pid"; then warn "pid $pid ignored SIG$sig: SIGKILL"; kill -KILL "$pid" 2>/dev/null; fi
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

# Mounts: a normal unmount, or a lazy one if something is still busy in it
# (or its client is dead: then the unmount fails with ENOTCONN).
is_mounted() { grep -q " $1 " /proc/self/mounts; }
if [ -f "$ST/mounts" ]; then
  while read -r mnt; do
    [ -n "$mnt" ] || continue
    if is_mounted "$mnt"; then
      timeout 10 umount "$mnt" 2>/dev/null || { umount -l "$mnt" 2>/dev/null; }
    fi
    is_mounted "$mnt" && { warn "$mnt is still mounted"; left=1; }
  done <"$ST/mounts"
fi

pids_of() { [ -f "$ST/pids" ] && awk -v n="$1" '$1 ~ n {print $2}' "$ST/pids"; }

# Clients exit when unmounted; make sure. Then the daemons: their data is
# throwaway and the MDS ignores SIGTERM for seconds, so SIGKILL them.
stop TERM $(pids_of '^client-')
stop KILL $(pids_of '^mds$')
stop KILL $(pids_of '^osd$')
stop KILL $(pids_of '^mon$')

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

for pid in $(awk '{print $2}' "$ST/pids" 2>/dev/null); do
  ours "$pid" && { warn "pid $pid still running"; left=1; }
done
if [ $left = 0 ]; then
  rm -rf "$ST" "$DIR/mon" "$DIR/osd" "$DIR/mds" "$DIR/run"
fi
exit $left
