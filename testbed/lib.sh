# Shell functions shared by the test beds' up.sh and down.sh scripts
# (GlusterFS and CephFS). A script that sources this file sets DIR (the test
# bed's directory), ST (its state directory) and HERE (the script's own
# directory). down.sh also sets left=0 and defines ours PID, which says
# whether PID is alive and one of this test bed's own processes, so that a
# recycled pid is never killed by mistake.

warn() { echo "${0##*/}: $*" >&2; }

# --- up.sh

# fail MESSAGE: say why, tear down what was started, and exit 1.
fail() {
	warn "$*"
	warn "logs in $DIR/logs; tearing down"
	"$HERE/down.sh" "$DIR" >&2 || true
	exit 1
}

# record_pid ROLE PID: down.sh stops PID.
record_pid() { echo "$1 $2" >>"$ST/pids"; }

# wait_for SECONDS WHAT CMD...: poll CMD every 50 ms until it succeeds.
wait_for() {
	local secs=$1 what=$2
	shift 2
	local deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || fail "timed out waiting for $what"
		sleep 0.05
	done
}

# add_ns NS: a network namespace with its loopback up, which down.sh deletes.
add_ns() {
	ip netns add "$1"
	echo "$1" >>"$ST/netns"
	ip -n "$1" link set lo up
}

# bridge SERVER_NS SERVER_IP CLIENT_NS...: a bridge in SERVER_NS holding
# SERVER_IP/24, and each client namespace joined to it by a veth with the next
# address. Each veth is created inside its client namespace, its peer inside
# the server's: neither end ever exists in the caller's namespace.
bridge() {
	local srv=$1 ip=$2 net=${2%.1} n=2 ns
	shift 2
	ip -n "$srv" link add br0 type bridge
	ip -n "$srv" addr add "$ip/24" dev br0
	ip -n "$srv" link set br0 up
	for ns in "$@"; do
		ip -n "$ns" link add eth0 type veth peer name "port$n" netns "$srv"
		ip -n "$srv" link set "port$n" master br0
		ip -n "$srv" link set "port$n" up
		ip -n "$ns" addr add "$net.$n/24" dev eth0
		ip -n "$ns" link set eth0 up
		n=$((n + 1))
	done
}

# --- down.sh

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
