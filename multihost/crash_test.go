//go:build linux

package multihost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/internal/selfcheck"
)

// A crash on host B while B runs a memoized function, holding the
// argument's lock, with a writer of self-checking values on each host (the
// "partition" child). Host A, already calling the function for the same
// argument and waiting for the lock, must take over once the lock is freed,
// and run the function itself: the function runs twice in all. No value is
// torn, and no write of A's is lost: after the crash, every key's value on
// both hosts is A's last.
//
// How B crashes, and so when the lock is freed, is the caller's: a process
// killed (its host's client frees its locks at once), or the host's client
// itself killed (the server frees them when it drops the client).

// takeoverResult is what a crash test measured.
type takeoverResult struct {
	takeover time.Duration // from the crash until A runs the function
	aMaxSet  time.Duration // A's slowest Set meanwhile
	aSets    int
}

// takeover runs the scenario above; crash makes host B crash, given its
// child process, and revive, if not nil, brings host B back before both
// hosts' values are checked. A must take over within limit.
func takeover(t *testing.T, bd *bed, limit time.Duration, crash func(b *child), revive func()) takeoverResult {
	t.Helper()
	rel := bd.bucketDir(t)
	runs := filepath.Join(t.TempDir(), "runs")
	start := func(host string) *child {
		c := startChild(t, host, bd.ns(host), "partition", partArgs{Dir: bd.at(host, rel), Name: host, Runs: runs})
		c.expect("ready", time.Minute)
		c.send("go")
		return c
	}
	sets := func(c *child) int {
		c.send("sets")
		n, err := strconv.Atoi(c.expect("sets", time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// waitSets waits until c's writer has made more than n Sets.
	waitSets := func(c *child, n int) {
		for deadline := time.Now().Add(limit + time.Minute); sets(c) <= n; {
			if time.Now().After(deadline) {
				t.Fatalf("%s's writer made no more than %d Sets in %v:\n%s", c.name, n, limit+time.Minute, c.output())
			}
			time.Sleep(20 * time.Millisecond) // polling another process
		}
	}

	b := start("B")
	b.expect("computing B", time.Minute) // B holds the argument's lock
	a := start("A")
	waitSets(a, 0) // A is up, and its call is waiting for the lock
	crashed := time.Now()
	crash(b)
	a.expect("computing A", limit)
	took := time.Since(crashed)
	a.send("release")
	a.expect("returned A", time.Minute)
	// A's writer goes on until it has written every key again since the
	// takeover: whatever B had in flight, A's last values must stay.
	waitSets(a, sets(a)+partWriterKeys)
	a.send("stop")
	var ra partReport
	a.report(&ra, time.Minute)
	a.wait(time.Minute)
	if ra.Failed > 0 {
		t.Errorf("A: %d Sets failed, first: %s", ra.Failed, ra.FirstErr)
	}
	if ra.Result != "computed by A" || ra.Err != "" {
		t.Errorf("A's call returned %q, %q; want its own result", ra.Result, ra.Err)
	}
	if revive != nil {
		revive()
	}
	got := runsByKey(t, runs)[partKey]
	if len(got) != 2 {
		t.Errorf("the function ran %d times (%v): want twice, once on each host", len(got), got)
	}
	for _, host := range []string{"A", "B"} {
		mb, err := bucket.Open[int, string](bd.at(host, rel), bucket.Options{})
		if err != nil {
			t.Fatal(err)
		}
		f := bucket.Memoize(mb, "partitioned", func(context.Context, int) (string, error) {
			return "", errors.New("ran a third time")
		})
		if v, err := f(context.Background(), partKey); err != nil || v != "computed by A" {
			t.Errorf("host %s: memoized result %q, %v; want A's", host, v, err)
		}
		mb.Close()
		vb, err := bucket.Open[string, selfcheck.Value](bd.at(host, rel)+"-values", bucket.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range partWriterKeys {
			key := partWriterKey(i)
			v, err := vb.Get(key)
			if err == nil {
				err = selfcheck.Check(key, v)
			}
			if err == nil && (v.Writer != "A" || v.Seq != ra.Last[key]) {
				err = fmt.Errorf("%s's value %d, but A's last Set was its value %d: a write was lost", v.Writer, v.Seq, ra.Last[key])
			}
			if err != nil {
				t.Errorf("host %s: %s: %v", host, key, err)
			}
		}
		vb.Close()
	}
	return takeoverResult{takeover: took, aMaxSet: ra.MaxSet, aSets: ra.Sets}
}

// TestProcessKilled: kill -9 of the process on host B that holds a
// memoized argument's lock. Its host's client frees the lock at once.
func TestProcessKilled(t *testing.T) {
	onEach(t, func(t *testing.T, bd *bed) {
		r := takeover(t, bd, time.Minute, func(b *child) { b.cmd.Process.Kill() }, nil)
		t.Logf("A took over %v after the kill; A's slowest Set %v", r.takeover, r.aMaxSet)
		fmt.Fprintf(os.Stderr, "FIGURES kill-%s: takeover=%v a_sets=%d a_max_set=%v failed=%v\n",
			bd.fs.name, r.takeover, r.aSets, r.aMaxSet, t.Failed())
	})
}

// TestHostCrash: host B's CephFS client (ceph-fuse) is killed, as a crash
// of the host would stop it, and B's process with it. The MDS keeps B's
// session, and its locks, until the session times out (30 s on the test
// bed; Ceph's default, 300 s, with BUCKETCACHE_CEPH_SESSION=default), or
// until an operator evicts it. Host B then reboots: its mount comes back.
func TestHostCrash(t *testing.T) {
	bd := ceph.shared(t)
	session := bd.vars["SESSION_TIMEOUT"] // seconds, or "default"
	timeout := time.Duration(cephSessionTimeout) * time.Second
	if session == "default" {
		timeout = 300 * time.Second // session_autoclose: the longest it can take
	}
	for _, how := range []string{"evict", "timeout"} {
		t.Run(how, func(t *testing.T) {
			limit := 30 * time.Second
			if how == "timeout" {
				limit = timeout + time.Minute
			}
			revived := false
			revive := func() { bd.crash(t, "revive", "B"); revived = true }
			t.Cleanup(func() {
				if !revived { // for the tests that follow
					revive()
				}
			})
			r := takeover(t, bd, limit, func(b *child) {
				bd.crash(t, "kill", "B")
				b.cmd.Process.Kill()
				if how == "evict" {
					bd.crash(t, "evict", "B")
				}
			}, revive)
			t.Logf("session timeout %s, %s: A took over %v after the crash; A's slowest Set %v",
				session, how, r.takeover, r.aMaxSet)
			fmt.Fprintf(os.Stderr, "FIGURES host-crash-%s: session_timeout=%s takeover=%v a_sets=%d a_max_set=%v failed=%v\n",
				how, session, r.takeover, r.aSets, r.aMaxSet, t.Failed())
		})
	}
}

// TestHostPartition: host B of a CephFS test bed in network namespaces is
// cut off from the cluster while it runs a memoized function. The MDS
// drops B's session, and its locks, after the session timeout (30 s) and
// blocklists it; A takes over. After the partition heals, B's mount fails
// (the blocklist) until it is mounted again, so B's run cannot store its
// result over A's, and none of B's writes lands after A's. It takes a
// cluster of its own and about a minute: run with BUCKETCACHE_MULTIHOST_LONG=1.
func TestHostPartition(t *testing.T) {
	if !long() {
		t.Skip("a minute on a cluster of its own: run with " + longEnv + "=1")
	}
	bd := netnsBed(t, ceph)
	var b *child
	r := takeover(t, bd, time.Duration(cephSessionTimeout)*time.Second+time.Minute, func(c *child) {
		b = c
		bd.partition(t, "cut", "B")
	}, func() {
		bd.partition(t, "heal", "B")
		b.send("release") // B's run ends, on a mount that now fails
		b.expect("returned B", 2*time.Minute)
		b.send("stop")
		var rb partReport
		b.report(&rb, time.Minute)
		b.wait(time.Minute)
		t.Logf("B's call: %q, error %q; its writer: %d Sets, %d failed (first: %s)", rb.Result, rb.Err, rb.Sets, rb.Failed, rb.FirstErr)
		if rb.Result != "computed by B" {
			t.Errorf("B's call returned %q, %q; want its own result", rb.Result, rb.Err)
		}
		bd.crash(t, "kill", "B") // its blocklisted client, then a new mount
		bd.crash(t, "revive", "B")
	})
	t.Logf("session timeout %ds: A took over %v after the cut; A's slowest Set %v", cephSessionTimeout, r.takeover, r.aMaxSet)
	fmt.Fprintf(os.Stderr, "FIGURES ceph-partition: session_timeout=%ds takeover=%v a_sets=%d a_max_set=%v failed=%v\n",
		cephSessionTimeout, r.takeover, r.aSets, r.aMaxSet, t.Failed())
}

// crash runs testbed/ceph/crash.sh: kill, evict or revive host's client.
func (b *bed) crash(t *testing.T, how, host string) {
	t.Helper()
	if out, err := exec.Command(b.fs.script("crash.sh"), b.dir, how, host).CombinedOutput(); err != nil {
		t.Fatalf("crash.sh %s %s: %v\n%s", how, host, err, out)
	}
}
