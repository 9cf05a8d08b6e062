//go:build linux

package multihost

import (
	"context"
	"fmt"
	"testing"

	"github.com/bucketcache/bucketcache/bucket"
)

// The benchmarks compare a bucket on local ext4 (two Buckets on one
// directory, as two processes of one machine) with a bucket on GlusterFS
// written through host A's mount and read through host B's, so that every
// read is a read across hosts. Values are 100 bytes.

const benchKeys = 100

// benchPair returns a writer and a reader Bucket on one directory: on
// local disk, or on the two mounts of the GlusterFS test bed.
func benchPair(b *testing.B, where string, reader bucket.Options) (w, r *bucket.Bucket[int, string]) {
	b.Helper()
	wdir, rdir := b.TempDir(), ""
	rdir = wdir
	if where == "gluster" {
		bd := pairBed(b)
		rel := bd.bucketDir(b)
		wdir, rdir = bd.at("A", rel), bd.at("B", rel)
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

var filesystems = []string{"ext4", "gluster"}

// BenchmarkGet: a Get of a value the other host wrote: warm (kept in the
// reader's memory, validated with a stat) and cold (read from the file).
func BenchmarkGet(b *testing.B) {
	for _, fs := range filesystems {
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
	for _, fs := range filesystems {
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
	for _, fs := range filesystems {
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
