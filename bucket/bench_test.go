package bucket

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Each Benchmark here has a raw baseline beside it: the least a file-per-key
// cache must do with plain os calls. Compare them in one run:
//
//	go test -run='^$' -bench=. -benchmem -count=5 ./bucket/ | tee bench.txt
//	benchstat bench.txt

type small struct {
	ID   int
	Name string
	Tags []string
}

var smallValue = small{ID: 42, Name: "a small value of a few dozen bytes", Tags: []string{"x", "y"}}

func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "key-" + strconv.Itoa(i)
	}
	return keys
}

func BenchmarkSet(b *testing.B) {
	bk := open[string, small](b, b.TempDir(), Options{})
	keys := benchKeys(1000)
	for _, k := range keys { // steady state: shard directories and lock files exist
		bk.Set(k, smallValue)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := bk.Set(keys[i%len(keys)], smallValue); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSetRaw is Set's floor: encode, write a temp file, rename it.
func BenchmarkSetRaw(b *testing.B) {
	dir := b.TempDir()
	keys := benchKeys(1000)
	for _, k := range keys {
		os.WriteFile(filepath.Join(dir, k), nil, 0o644)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		data, _ := json.Marshal(smallValue)
		final := filepath.Join(dir, keys[i%len(keys)])
		tmp := final + ".tmp"
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(tmp, final); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetCold(b *testing.B) {
	bk := open[string, small](b, b.TempDir(), Options{MemoryLimit: -1})
	keys := benchKeys(1000)
	for _, k := range keys {
		bk.Set(k, smallValue)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := bk.Get(keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetColdRaw is a cold Get's floor: read the file, decode it.
func BenchmarkGetColdRaw(b *testing.B) {
	dir := b.TempDir()
	keys := benchKeys(1000)
	data, _ := json.Marshal(smallValue)
	for _, k := range keys {
		os.WriteFile(filepath.Join(dir, k), data, 0o644)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		raw, err := os.ReadFile(filepath.Join(dir, keys[i%len(keys)]))
		if err != nil {
			b.Fatal(err)
		}
		var v small
		if err := json.Unmarshal(raw, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetWarm(b *testing.B) {
	bk := open[string, small](b, b.TempDir(), Options{})
	keys := benchKeys(1000)
	for _, k := range keys {
		bk.Set(k, smallValue)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := bk.Get(keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetWarmParallel(b *testing.B) {
	bk := open[string, small](b, b.TempDir(), Options{})
	keys := benchKeys(1000)
	for _, k := range keys {
		bk.Set(k, smallValue)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if _, err := bk.Get(keys[i%len(keys)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkContainsMiss(b *testing.B) {
	bk := open[string, small](b, b.TempDir(), Options{})
	keys := benchKeys(1000)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if ok, _ := bk.Contains(keys[i%len(keys)]); ok {
			b.Fatal("hit")
		}
	}
}

// BenchmarkContainsMissRaw is a miss's floor: a stat that fails.
func BenchmarkContainsMissRaw(b *testing.B) {
	dir := b.TempDir()
	keys := benchKeys(1000)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := os.Stat(filepath.Join(dir, keys[i%len(keys)])); err == nil {
			b.Fatal("hit")
		}
	}
}

// pruneEntries is how many entries the Prune benchmarks scan. Set
// BUCKETCACHE_PRUNE_ENTRIES=100000 for the figure in BENCHMARKS.md.
func pruneEntries() int {
	if n, err := strconv.Atoi(os.Getenv("BUCKETCACHE_PRUNE_ENTRIES")); err == nil && n > 0 {
		return n
	}
	return 10000
}

func fillForPrune(b *testing.B) *Bucket[string, small] {
	bk := open[string, small](b, b.TempDir(), Options{MemoryLimit: -1})
	for i := 0; i < pruneEntries(); i++ {
		if err := bk.Set(fmt.Sprint("k", i), smallValue); err != nil {
			b.Fatal(err)
		}
	}
	return bk
}

// BenchmarkPrune scans a bucket in which nothing has expired: the cost of
// reading every header.
func BenchmarkPrune(b *testing.B) {
	bk := fillForPrune(b)
	for b.Loop() {
		if info, err := bk.Prune(); err != nil || info.Files != 0 {
			b.Fatal(info, err)
		}
	}
}

// BenchmarkPruneByDecoding is the original's way: read and decode every value
// to learn its expiry.
func BenchmarkPruneByDecoding(b *testing.B) {
	bk := fillForPrune(b)
	for b.Loop() {
		n := 0
		for _, v := range bk.All() {
			_ = v
			n++
		}
		if n != pruneEntries() {
			b.Fatal(n)
		}
	}
}

// BenchmarkSetLimited is BenchmarkSet with an entry limit below the number
// of keys written, so the usage is counted on every write and trims evict in
// the background while the Sets go on. Compare with BenchmarkSetUnlimited,
// which writes the same fresh keys.
func BenchmarkSetLimited(b *testing.B) {
	benchSetFresh(b, Options{MaxEntries: 500, EvictionGrace: time.Nanosecond, TrimInterval: 50 * time.Millisecond})
}

func BenchmarkSetUnlimited(b *testing.B) { benchSetFresh(b, Options{}) }

func benchSetFresh(b *testing.B, opts Options) {
	bk := open[string, small](b, b.TempDir(), opts)
	for i := 0; i < 1000; i++ { // shard directories and lock files exist
		bk.Set("warm-"+strconv.Itoa(i), smallValue)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := bk.Set("k"+strconv.Itoa(i), smallValue); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if opts.MaxEntries > 0 {
		b.ReportMetric(float64(bk.Stats().Evictions)/float64(b.N), "evictions/op")
	}
}

// BenchmarkGetWarmBytes is a warm Get of a 4 KiB []byte value (Raw codec):
// the caller gets a fresh copy of bytes kept in memory. Its floor is
// BenchmarkCopy4KiB.
func BenchmarkGetWarmBytes(b *testing.B) { benchGetBytes(b, Options{Codec: Raw}, 1000, 4<<10, false) }

// BenchmarkCopy4KiB is a warm Get's floor: a plain copy of 4 KiB into a
// fresh slice.
func BenchmarkCopy4KiB(b *testing.B) {
	src := make([][]byte, 1000)
	for i := range src {
		src[i] = make([]byte, 4<<10)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sink = append([]byte(nil), src[i%len(src)]...)
	}
}

var sink []byte

// BenchmarkUnloadGet1MiB drops a 1 MiB value (Raw codec) from memory and
// reads it again: a cold Get in a Bucket with a memory layer. Compare with
// BenchmarkGet1MiBNoMemory, the same read in a Bucket without one.
func BenchmarkUnloadGet1MiB(b *testing.B) { benchGetBytes(b, Options{Codec: Raw}, 8, 1<<20, true) }

func BenchmarkGet1MiBNoMemory(b *testing.B) {
	benchGetBytes(b, Options{Codec: Raw, MemoryLimit: -1}, 8, 1<<20, false)
}

// benchGetBytes reads n keys of []byte values of size bytes in turn, each
// first dropped from memory when unload is set.
func benchGetBytes(b *testing.B, opts Options, n, size int, unload bool) {
	bk := open[string, []byte](b, b.TempDir(), opts)
	keys := benchKeys(n)
	val := make([]byte, size)
	for _, k := range keys {
		bk.Set(k, val)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := keys[i%len(keys)]
		if unload {
			bk.Unload(k)
		}
		if v, err := bk.Get(k); err != nil || len(v) != len(val) {
			b.Fatal(len(v), err)
		}
	}
}
