//go:build linux

package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/internal/gocacheprog/gocachetest"
)

// BenchmarkGocacheprog builds the project (go build ./...) side by side
// with the default cache and with bucketfs gocacheprog on a bucket on local
// disk, cold (every cache empty) and warm (everything cached). A warm build
// with the prog is measured twice: with the local directory of the cold
// build kept ("warm"), and with an empty one, so that every output comes
// from the bucket ("warm-bucket"). Each round runs the cold builds in
// alternating order, then warmRuns warm builds of each kind interleaved.
// It reports seconds per build and the ratios prog/default.
//
//	BUCKETCACHE_BENCH_GOBUILD=1 go test -run '^$' -bench Gocacheprog -benchtime 2x ./cmd/bucketfs
func BenchmarkGocacheprog(b *testing.B) {
	const warmRuns = 5
	gocachetest.NeedBuildBenchmarks(b)
	root := gocachetest.SnapshotModule(b, filepath.Join("..", ".."))
	timed := func(c gocachetest.Cache) time.Duration {
		start := time.Now()
		c.Run(b, root, "build", "./...")
		return time.Since(start)
	}
	var coldDef, coldProg, warmDef, warmProg, warmBucket time.Duration
	round := 0
	for b.Loop() {
		def := gocachetest.Cache{GoCache: b.TempDir()}
		bucketDir, local := b.TempDir(), b.TempDir()
		prog := gocachetest.Cache{GoCache: b.TempDir(), Prog: gocachetest.ProgFor(binary, bucketDir, local)}
		if round%2 == 0 {
			coldDef += timed(def)
			coldProg += timed(prog)
		} else {
			coldProg += timed(prog)
			coldDef += timed(def)
		}
		for range warmRuns {
			warmDef += timed(def)
			warmProg += timed(prog)
			warmBucket += timed(gocachetest.Cache{GoCache: b.TempDir(), Prog: gocachetest.ProgFor(binary, bucketDir, b.TempDir())})
		}
		round++
	}
	n := float64(round)
	b.ReportMetric(coldDef.Seconds()/n, "cold-default-s")
	b.ReportMetric(coldProg.Seconds()/n, "cold-prog-s")
	b.ReportMetric(warmDef.Seconds()/n/warmRuns, "warm-default-s")
	b.ReportMetric(warmProg.Seconds()/n/warmRuns, "warm-prog-s")
	b.ReportMetric(warmBucket.Seconds()/n/warmRuns, "warm-bucket-s")
	b.ReportMetric(coldProg.Seconds()/coldDef.Seconds(), "cold-ratio")
	b.ReportMetric(warmProg.Seconds()/warmDef.Seconds(), "warm-ratio")
	b.ReportMetric(warmBucket.Seconds()/warmDef.Seconds(), "warm-bucket-ratio")
}
