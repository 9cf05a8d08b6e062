//go:build linux

package multihost

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
)

// The benchmarks compare a bucket on local ext4 (two Buckets on one
// directory, as two processes of one machine) with a bucket on GlusterFS and
// on CephFS, written through host A's mount and read through host B's, so
// that every read is a read across hosts. Values are 100 bytes.

const benchKeys = 100

// benchPair returns a writer and a reader Bucket on one directory: on
// local disk ("ext4"), or on the two mounts of a filesystem's shared test
// bed ("gluster", "ceph").
func benchPair(b *testing.B, where string, reader bucket.Options) (w, r *bucket.Bucket[int, string]) {
	b.Helper()
	wdir := b.TempDir()
	rdir := wdir
	for _, fs := range filesystems {
		if fs.name == where {
			bd := fs.shared(b)
			rel := bd.bucketDir(b)
			wdir, rdir = bd.at("A", rel), bd.at("B", rel)
		}
	}
	var err error
	if w, err = bucket.Open[int, string](wdir, bucket.Options{}); err != nil {
		b.Fatal(err)
	}
	if r, err = bucket.Open[int, string](rdir, reader); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close(); r.Close() })
	return w, r
}

func benchValue(i int) string { return fmt.Sprintf("%-100d", i) }

// benchWhere are the places the benchmarks run: local disk, then each
// distributed filesystem.
var benchWhere = []string{"ext4", "gluster", "ceph"}

// BenchmarkGet: a Get of a value the other host wrote: warm (kept in the
// reader's memory, validated with a stat) and cold (read from the file).
func BenchmarkGet(b *testing.B) {
	for _, fs := range benchWhere {
		for _, mode := range []string{"warm", "cold"} {
			b.Run(fs+"/"+mode, func(b *testing.B) {
				opts := bucket.Options{}
				if mode == "cold" {
					opts.MemoryLimit = -1
				}
				w, r := benchPair(b, fs, opts)
				for i := range benchKeys {
					if err := w.Set(i, benchValue(i)); err != nil {
						b.Fatal(err)
					}
					if _, err := r.Get(i); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				for i := 0; b.Loop(); i++ {
					if _, err := r.Get(i % benchKeys); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkSet: a Set, replacing an existing entry.
func BenchmarkSet(b *testing.B) {
	for _, fs := range benchWhere {
		b.Run(fs, func(b *testing.B) {
			_, r := benchPair(b, fs, bucket.Options{})
			for i := 0; b.Loop(); i++ {
				if err := r.Set(i%benchKeys, benchValue(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMemoHit: a call of a memoized function whose result the other
// host computed.
func BenchmarkMemoHit(b *testing.B) {
	for _, fs := range benchWhere {
		b.Run(fs, func(b *testing.B) {
			w, r := benchPair(b, fs, bucket.Options{})
			fn := func(_ context.Context, i int) (string, error) { return benchValue(i), nil }
			fw := bucket.Memoize(w, "bench", fn)
			fr := bucket.Memoize(r, "bench", func(context.Context, int) (string, error) {
				return "", fmt.Errorf("not a hit")
			})
			ctx := context.Background()
			for i := range benchKeys {
				if _, err := fw(ctx, i); err != nil {
					b.Fatal(err)
				}
			}
			for i := 0; b.Loop(); i++ {
				if _, err := fr(ctx, i%benchKeys); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSeen: a Set on one host, then Gets on the other until one
// returns the new value, as a reader polling for it would. Besides the
// whole round (ns/op), it reports the time from the Set's return to that
// Get's return (seen-ns/op): how long until a new value is seen across
// hosts; and how many Gets that took (gets/op: 1 when the first Get after
// the Set returns the new value, as it must).
func BenchmarkSeen(b *testing.B) {
	for _, fs := range benchWhere {
		b.Run(fs, func(b *testing.B) {
			w, r := benchPair(b, fs, bucket.Options{})
			const key = 0
			if err := w.Set(key, benchValue(0)); err != nil {
				b.Fatal(err)
			}
			if _, err := r.Get(key); err != nil { // warm: the reader holds the old value
				b.Fatal(err)
			}
			var seen time.Duration
			gets := 0
			for i := 1; b.Loop(); i++ {
				want := benchValue(i)
				if err := w.Set(key, want); err != nil {
					b.Fatal(err)
				}
				set := time.Now()
				for {
					gets++
					got, err := r.Get(key)
					if err != nil && !errors.Is(err, bucket.ErrNotFound) {
						b.Fatal(err)
					}
					if got == want {
						break
					}
				}
				seen += time.Since(set)
			}
			b.ReportMetric(float64(seen.Nanoseconds())/float64(b.N), "seen-ns/op")
			b.ReportMetric(float64(gets)/float64(b.N), "gets/op")
		})
	}
}
