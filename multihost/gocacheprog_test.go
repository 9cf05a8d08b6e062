//go:build linux

package multihost

import (
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/internal/gocacheprog/gocachetest"
)

// bucketfs builds the bucketfs command into a temporary directory of tb
// (after the first time, the go command only links it again).
func bucketfs(tb testing.TB) string {
	tb.Helper()
	return gocachetest.BuildBucketfs(tb, "..", tb.TempDir())
}

// hostCache is a go command environment of host ("A" or "B") with the
// bucket rel on the test bed as its GOCACHEPROG, in shared-filesystem mode,
// with an empty GOCACHE and a local directory of its own.
func hostCache(tb testing.TB, bd *bed, bin, host, rel string) gocachetest.Cache {
	return gocachetest.Cache{
		GoCache: tb.TempDir(),
		Prog:    gocachetest.ProgFor(bin, bd.at(host, rel), tb.TempDir(), "-shared"),
	}
}

// TestGocacheprogAcrossHosts: host B's first build and test of what host A
// built and tested, on one bucket on GlusterFS, hits everything: the
// compiler never runs, the test results are cached, and the binaries are
// byte for byte host A's.
func TestGocacheprogAcrossHosts(t *testing.T) {
	bd := gluster.shared(t) // GlusterFS only: each filesystem costs a cold build
	gocachetest.GoCommand(t)
	bin := bucketfs(t)
	rel := bd.bucketDir(t)
	mod := t.TempDir()
	gocachetest.WriteModule(t, mod, "example.com/hosts", 4)

	a := hostCache(t, bd, bin, "A", rel)
	outA := t.TempDir()
	r := a.Run(t, mod, "build", "-o", outA+"/", "./cmd/...")
	if r.Stats.Puts == 0 {
		t.Fatalf("host A's build: %v, want puts", r.Stats)
	}
	a.Run(t, mod, "test", "./...")

	b := hostCache(t, bd, bin, "B", rel)
	outB := t.TempDir()
	r = b.Run(t, mod, "build", "-x", "-o", outB+"/", "./cmd/...")
	r.CheckWarmBuild(t, "host B's build")
	gocachetest.SameFiles(t, outA, outB)
	r = b.Run(t, mod, "test", "./...")
	if s := r.Stats; s.Gets == 0 || s.Hits != s.Gets {
		t.Errorf("host B's test: %v, want every get a hit", s)
	}
	r.CheckTestsCached(t, "host B's go test")
}

// BenchmarkGocacheprogAcrossHosts builds the project (go build ./...)
// side by side: host B's first build after host A built it into a bucket on
// GlusterFS, against a cold build with the default cache. It reports each
// in seconds and the speed-up (cold-s / host-B-s).
//
//	BUCKETCACHE_BENCH_GOBUILD=1 go test -run '^$' -bench GocacheprogAcrossHosts ./multihost
func BenchmarkGocacheprogAcrossHosts(b *testing.B) {
	gocachetest.NeedBuildBenchmarks(b)
	bd := gluster.shared(b)
	root := gocachetest.SnapshotModule(b, "..")
	bin := bucketfs(b)
	var cold, hostB time.Duration
	for b.Loop() {
		b.StopTimer()
		rel := bd.bucketDir(b)
		hostCache(b, bd, bin, "A", rel).Run(b, root, "build", "./...")
		b.StartTimer()
		start := time.Now()
		gocachetest.Cache{GoCache: b.TempDir()}.Run(b, root, "build", "./...")
		cold += time.Since(start)
		start = time.Now()
		r := hostCache(b, bd, bin, "B", rel).Run(b, root, "build", "./...")
		hostB += time.Since(start)
		b.Logf("host B: %v", r.Stats)
	}
	b.ReportMetric(cold.Seconds()/float64(b.N), "cold-s")
	b.ReportMetric(hostB.Seconds()/float64(b.N), "host-B-s")
	b.ReportMetric(cold.Seconds()/hostB.Seconds(), "speedup")
}
