// Package multihost tests a bucket shared by several hosts on a real
// distributed filesystem, GlusterFS, brought up on one machine by the
// scripts in testbed/gluster: one volume mounted twice (each mount plays a
// host), and three network namespaces (a server and two client hosts) for
// network partitions. It has no code of its own, only tests and benchmarks.
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
//   - under a network partition no value is torn, and Memoize degrades to
//     at-least-once: the cut-off host's lock is freed after the volume's
//     timeout while it still runs the function.
//
// The tests skip when GlusterFS is not installed or the user is not root,
// unless BUCKETCACHE_REQUIRE_GLUSTER=1, which turns the skip into a failure
// (CI sets it). BUCKETCACHE_MULTIHOST_LONG=1 runs the stress tests for
// longer.
package multihost
