# Shell functions shared by the test beds' down.sh scripts (GlusterFS and
# CephFS). A script that sources this file sets DIR (the test bed's
# directory), ST (its state directory) and left=0, and defines ours PID,
# which says whether PID is alive and one of this test bed's own processes,
# so that a recycled pid is never killed by mistake.

warn() { echo "down.sh: $*" >&2; }

# stop SIGNAL PID...: send SIGNAL to those of the PIDs that are ours, wait up
# to 5 s for them to go, then SIGKILL what is left.
stop() {
	local sig=$1 pid live
	shift
	for pid in "$@"; do ours "$pid" && kill "-$sig" "$pid" 2>/dev/null; done
	for _ in $(seq 100); do
		live=0
		for pid in "$@"; do ours "$pid" && live=1; done
		[ $live = 0 ] && return 0
		sleep 0.05
	done
	for pid in "$@"; do
		if ours "$pid"; then
			warn "pid $pid ignored SIG$sig: SIGKILL"
			kill -KILL "$pid" 2>/dev/null
		fi
	done
	sleep 0.1
}

# stop_watchdog: the watchdog first, unless it is the one running us.
stop_watchdog() {
	local w
	[ -s "$ST/watchdog" ] || return 0
	w=$(cat "$ST/watchdog")
	if [ "$w" != "$PPID" ] && [ "$w" != "$$" ]; then
		kill -TERM "$w" 2>/dev/null
	fi
	rm -f "$ST/watchdog"
}

is_mounted() { grep -q " $1 " /proc/self/mounts; }

# unmount_all: every recorded mount, normally, or lazily if something is
# still busy in it (or its client is dead: the unmount then fails ENOTCONN).
unmount_all() {
	local mnt
	[ -f "$ST/mounts" ] || return 0
	while read -r mnt; do
		[ -n "$mnt" ] || continue
		if is_mounted "$mnt"; then
			timeout 10 umount "$mnt" 2>/dev/null || { warn "$mnt busy or dead: lazy unmount"; umount -l "$mnt" 2>/dev/null; }
		fi
		is_mounted "$mnt" && { warn "$mnt is still mounted"; left=1; }
	done <"$ST/mounts"
}

# pids_of PATTERN: the recorded pids whose role matches PATTERN.
pids_of() { [ -f "$ST/pids" ] && awk -v n="$1" '$1 ~ n {print $2}' "$ST/pids"; }

# delete_netns: the recorded network namespaces, after killing anything still
# running inside them (a test's child).
delete_netns() {
	local ns pid
	[ -f "$ST/netns" ] || return 0
	while read -r ns; do
		[ -n "$ns" ] || continue
		if [ -e "/run/netns/$ns" ]; then
			for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
			ip netns del "$ns" 2>/dev/null || { warn "cannot delete namespace $ns"; left=1; }
		fi
	done <"$ST/netns"
}

# check_left: a recorded process still running is left behind.
check_left() {
	local pid
	for pid in $(awk '{print $2}' "$ST/pids" 2>/dev/null); do
		ours "$pid" && { warn "pid $pid still running"; left=1; }
	done
}
