package deferred

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
)

// The benchmarks write the same n entries once per iteration, each time with
// new values, either by n calls of bucket.Bucket.Set or by n deferred Sets and
// one Sync. ns/entry is the figure to compare: it includes encoding on both
// sides. sync-ns/entry is the share of it spent inside Sync.

type small struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

func benchSmall(b *testing.B, deferred bool, parallel int) {
	const n = 10_000
	bk := open[int, small](b, b.TempDir(), bucket.Options{})
	d := New(bk)
	d.parallel = parallel
	var inSync time.Duration
	b.ResetTimer()
	for it := 0; b.Loop(); it++ {
		for i := range n {
			v := small{ID: i, Name: fmt.Sprint("item-", it)}
			var err error
			if deferred {
				err = d.Set(i, v)
			} else {
				err = bk.Set(i, v)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		if deferred {
			start := time.Now()
			if err := d.Sync(); err != nil {
				b.Fatal(err)
			}
			inSync += time.Since(start)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
	if deferred {
		b.ReportMetric(float64(inSync.Nanoseconds())/float64(b.N*n), "sync-ns/entry")
	}
}

// BenchmarkSmall10000 writes 10,000 small JSON entries.
func BenchmarkSmall10000(b *testing.B) {
	b.Run("Bucket.Set", func(b *testing.B) { benchSmall(b, false, 0) })
	b.Run("Deferred.Sync", func(b *testing.B) { benchSmall(b, true, 0) })
}

// BenchmarkSyncParallelism is BenchmarkSmall10000's Sync with a given number
// of shards written at once (the default is parallelism()).
func BenchmarkSyncParallelism(b *testing.B) {
	for _, p := range []int{1, 2, 4, 8, 16} {
		b.Run(fmt.Sprint(p), func(b *testing.B) { benchSmall(b, true, p) })
	}
}

func benchLarge(b *testing.B, deferred bool) {
	const n, size = 1_000, 64 << 10
	bk := open[int, []byte](b, b.TempDir(), bucket.Options{Codec: bucket.Raw})
	d := New(bk)
	v := make([]byte, size)
	b.SetBytes(n * size)
	b.ResetTimer()
	for it := 0; b.Loop(); it++ {
		for i := range n {
			v[0], v[1] = byte(it), byte(i)
			var err error
			if deferred {
				err = d.Set(i, v)
			} else {
				err = bk.Set(i, v)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		if deferred {
			if err := d.Sync(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
}

// BenchmarkLarge1000 writes 1,000 entries of 64 KiB (Raw codec).
func BenchmarkLarge1000(b *testing.B) {
	b.Run("Bucket.Set", func(b *testing.B) { benchLarge(b, false) })
	b.Run("Deferred.Sync", func(b *testing.B) { benchLarge(b, true) })
}

// BenchmarkPendingMemory measures the heap that pending entries hold (small
// JSON values and int keys), against PendingBytes' estimate.
func BenchmarkPendingMemory(b *testing.B) {
	const n = 10_000
	bk := open[int, small](b, b.TempDir(), bucket.Options{})
	var heap, estimate float64
	for b.Loop() {
		d := New(bk)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range n {
			if err := d.Set(i, small{ID: i, Name: "item"}); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap += float64(after.HeapAlloc-before.HeapAlloc) / n
		estimate += float64(d.PendingBytes()) / n
		runtime.KeepAlive(d)
	}
	b.ReportMetric(heap/float64(b.N), "heap-B/entry")
	b.ReportMetric(estimate/float64(b.N), "estimate-B/entry")
}
