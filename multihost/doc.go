// Package multihost tests a bucket shared by several hosts on real
// distributed filesystems brought up on one machine: GlusterFS, by the
// scripts in testbed/gluster (one volume mounted twice, each mount playing a
// host, and three network namespaces, a server and two client hosts, for
// network partitions), and CephFS, by the scripts in testbed/ceph (a
// single-node cluster, mounted twice through ceph-fuse as two clients). It
// has no code of its own, only tests and benchmarks. Every test runs on each
// filesystem in turn, as a subtest named after it ("gluster", "ceph"); each
// filesystem's test bed is brought up once and shared by the package's tests.
//
// What the tests establish, across the two hosts:
//
//   - processes on both hosts hammering one bucket with self-checking values
//     never read a torn, foreign, stale or lost value;
//   - what one host writes, the other reads on its very next Get, never a
//     stale copy from memory after that;
//   - opens that fail with ESTALE (a rename on the other host racing a read)
//     are misses, never errors or wrong values;
//   - lock files exclude across hosts, and Memoize runs a function exactly
//     once for both hosts;
//   - Prune, Clear, eviction and deferred Sync run from both hosts at once
//     without damage or the loss of a live entry;
//   - entry files damaged on one host are misses on the other, never wrong
//     values, and reads and Prune remove them;
//   - kill -9 of a process holding a memoized argument's lock lets the other
//     host take over at once;
//   - under a network partition, or a host crash (CephFS: the host's
//     ceph-fuse killed, its session then evicted or timed out), no value is
//     torn or lost, and Memoize degrades to at-least-once: the lost host's
//     lock is freed after the filesystem's timeout while it may still run
//     the function. (CephFS's partition test needs a cluster of its own and
//     runs only with BUCKETCACHE_MULTIHOST_LONG=1.)
//
// The tests skip when a filesystem is not installed or the user is not root,
// unless BUCKETCACHE_REQUIRE_GLUSTER=1 or BUCKETCACHE_REQUIRE_CEPH=1, which
// turns that filesystem's skip into a failure (CI sets both).
// BUCKETCACHE_MULTIHOST_LONG=1 runs the stress tests for longer, and
// BUCKETCACHE_CEPH_SESSION=default brings CephFS up with Ceph's own session
// timeouts instead of 30 s, to measure a host crash's takeover under them
// (go test -run TestHostCrash/timeout).
package multihost
