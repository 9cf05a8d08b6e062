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
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

# ours PID: the process PID exists and is one of GlusterFS's (or our
# watchdog), so a recycled pid is never killed by mistake.
ours() {
  local cmd
  cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
  case "$cmd" in *gluster*|*watchdog*) return 0 ;; *) return 1 ;; esac
}

stop_watchdog
unmount_all


# Clients exit when unmounted; make sure.
stop TERM $(pids_of '^client-')

# The brick, then glusterd. (The volume is not stopped through the CLI: its
# definition lives in DIR, and this way a wedged glusterd cannot stall us.)
stop TERM $(pids_of '^brick$')
stop TERM $(pids_of '^glusterd$')

# Namespaces, last: nothing runs in them any more.
delete_netns

VOL=$(cat "$ST/volume" 2>/dev/null || true)
# What glusterd left under its compiled-in paths for this volume and brick.
if [ -n "$VOL" ]; then
  rm -rf "/var/run/gluster/vols/$VOL"
  sock=$(cat "$ST/brick-socket" 2>/dev/null || true)
  case "$sock" in /var/run/gluster/*.socket) rm -f "$sock" ;; esac
  BRICKLOG=/var/log/glusterfs/bricks/$(printf %s "${DIR#/}/brick" | tr / -).log
  [ -f "$BRICKLOG" ] && mv "$BRICKLOG" "$DIR/logs/brick.log" 2>/dev/null
fi

check_left
if [ $left = 0 ]; then
  rm -rf "$ST"
  # The brick holds GlusterFS's own metadata (.glusterfs, xattrs): drop it so
  # that DIR can be deleted by an ordinary user of it.
  rm -rf "$DIR/brick" "$DIR/glusterd"
fi
exit $left
