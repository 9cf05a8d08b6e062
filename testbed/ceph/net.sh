#!/usr/bin/env bash
# net.sh DIR cut|heal A|B: partition a client host of the netns test bed
# brought up by "up.sh DIR netns" from the cluster, or join it again, by
# taking its only link down or up inside its own namespace. The test bed's
# DIR/env names the namespaces and the link as GlusterFS's does, so this is
# testbed/gluster/net.sh.
#
# While cut, the host's operations on its mount hang. The MDS drops the
# host's session, and its locks, after up.sh's SESSION_TIMEOUT, and
# blocklists it: after heal, its mount fails until it is mounted again
# (crash.sh DIR kill, then revive).
exec "$(cd "$(dirname "$0")" && pwd)/../gluster/net.sh" "$@"
