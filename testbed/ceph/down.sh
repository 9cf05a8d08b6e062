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
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"

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

stop_watchdog
unmount_all


# Clients exit when unmounted; make sure. Then the daemons: their data is
# throwaway and the MDS ignores SIGTERM for seconds, so SIGKILL them.
stop TERM $(pids_of '^client-')
stop KILL $(pids_of '^mds$')
stop KILL $(pids_of '^osd$')
stop KILL $(pids_of '^mon$')

delete_netns

check_left
if [ $left = 0 ]; then
  rm -rf "$ST" "$DIR/mon" "$DIR/osd" "$DIR/mds" "$DIR/run"
fi
exit $left
