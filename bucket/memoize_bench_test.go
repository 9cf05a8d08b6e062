package bucket

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"testing"
)

// Memoize's costs, each beside its baseline. Compare them in one run:
//
//	go test -run='^$' -bench=Memo -benchmem -count=5 ./bucket/ | tee memo.txt
//	benchstat memo.txt
//
// A hit costs about what a Get of the same entry costs. A miss costs the
// function and a Set, plus two lookups, a decode, and creating and removing
// the argument's lock file: with the nearly free work, the lock file alone
// costs about as much as the Set; with hashWork, the overhead is small
// beside the function.

// work is the memoized function of the miss benchmarks: cheap, so that the
// comparison shows Memoize's own cost.
func work(_ context.Context, k string) (small, error) {
	v := smallValue
	v.Name = k
	return v, nil
}

// BenchmarkMemoHit: a memoized call whose result is stored (and in memory).
func BenchmarkMemoHit(b *testing.B) {
	bk := open[string, small](b, b.TempDir(), Options{})
	f := Memoize(bk, "work", work)
	keys := benchKeys(1000)
	ctx := context.Background()
	for _, k := range keys {
		if _, err := f(ctx, k); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := f(ctx, keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemoHitBaselineGet is BenchmarkMemoHit's baseline: a Get of the
// same entries, stored by Set.
func BenchmarkMemoHitBaselineGet(b *testing.B) {
	bk := open[string, small](b, b.TempDir(), Options{})
	keys := benchKeys(1000)
	ctx := context.Background()
	for _, k := range keys {
		v, _ := work(ctx, k)
		if err := bk.Set(k, v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := bk.Get(keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemoHitCold: a hit read from disk (no in-memory layer).
func BenchmarkMemoHitCold(b *testing.B) {
	bk := open[string, small](b, b.TempDir(), Options{MemoryLimit: -1})
	f := Memoize(bk, "work", work)
	keys := benchKeys(1000)
	ctx := context.Background()
	for _, k := range keys {
		if _, err := f(ctx, k); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := f(ctx, keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemoHitColdBaselineGet is BenchmarkMemoHitCold's baseline.
func BenchmarkMemoHitColdBaselineGet(b *testing.B) {
	bk := open[string, small](b, b.TempDir(), Options{MemoryLimit: -1})
	keys := benchKeys(1000)
	ctx := context.Background()
	for _, k := range keys {
		v, _ := work(ctx, k)
		if err := bk.Set(k, v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := bk.Get(keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemoMiss: a memoized call with a new argument each time: look
// up, take the argument's lock, look again, run the function, store the
// result, remove the lock file.
func BenchmarkMemoMiss(b *testing.B) {
	bk := open[string, small](b, b.TempDir(), Options{})
	f := Memoize(bk, "work", work)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := f(ctx, "miss-"+strconv.Itoa(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemoMissBaselineFnSet is BenchmarkMemoMiss's baseline: the
// function, then a Set of its result.
func BenchmarkMemoMissBaselineFnSet(b *testing.B) {
	bk := open[string, small](b, b.TempDir(), Options{})
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := "miss-" + strconv.Itoa(i)
		v, err := work(ctx, k)
		if err != nil {
			b.Fatal(err)
		}
		if err := bk.Set(k, v); err != nil {
			b.Fatal(err)
		}
	}
}

// hashWork is a memoized function with a cost of its own: a SHA-256 of
// 256 KiB, about as long as a Set.
func hashWork(_ context.Context, k string) (small, error) {
	sum := sha256.Sum256(hashInput)
	v := smallValue
	v.Name = k + hex.EncodeToString(sum[:4])
	return v, nil
}

var hashInput = make([]byte, 256<<10)

// BenchmarkMemoMissHashFn is BenchmarkMemoMiss with hashWork.
func BenchmarkMemoMissHashFn(b *testing.B) {
	bk := open[string, small](b, b.TempDir(), Options{})
	f := Memoize(bk, "hashWork", hashWork)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := f(ctx, "miss-"+strconv.Itoa(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemoMissHashFnBaselineFnSet is BenchmarkMemoMissHashFn's
// baseline: hashWork, then a Set.
func BenchmarkMemoMissHashFnBaselineFnSet(b *testing.B) {
	bk := open[string, small](b, b.TempDir(), Options{})
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := "miss-" + strconv.Itoa(i)
		v, err := hashWork(ctx, k)
		if err != nil {
			b.Fatal(err)
		}
		if err := bk.Set(k, v); err != nil {
			b.Fatal(err)
		}
	}
}
