//go:build linux

package multihost

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/internal/selfcheck"
	"github.com/bucketcache/bucketcache/shard"
)

// TestStaleHandles: host A replaces an entry back to back, as fast as the
// filesystem renames, while readers on host B read it, cold (every read
// opens the file) and warm. An open on B that races two of A's renames
// fails with ESTALE; raw opens of the same file, counted alongside, show
// how often. Bucket reads must never fail because of it, nor return a
// damaged, foreign or stale value: the entry always exists, so a read is a
// hit or, when every retry met ESTALE, a miss.
//
// So that renames come faster than a locked Set allows, A's writer renames
// entry files encoded beforehand (by a bucket on local disk with the same
// layout) into place itself, as a writer would, without the shard lock.
func TestStaleHandles(t *testing.T) { onEach(t, testStaleHandles) }

func testStaleHandles(t *testing.T, bd *bed) {
	rel := bd.bucketDir(t)
	const key = "hot"
	versions := 400
	if long() {
		versions = 10000
	}
	local, err := bucket.Open[string, selfcheck.Value](t.TempDir(), bucket.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	kb, err := engine(local).KeyBytes(key)
	if err != nil {
		t.Fatal(err)
	}
	entryPath := engine(local).Store.Layout().EntryPath(shard.Hash(kb))
	encoded := make([][]byte, versions+1)
	for n := range encoded {
		if err := local.Set(key, selfcheck.New(key, "A", uint64(n), 200)); err != nil {
			t.Fatal(err)
		}
		if encoded[n], err = os.ReadFile(filepath.Join(local.Dir(), entryPath)); err != nil {
			t.Fatal(err)
		}
	}

	a, warm := openHosts[string, selfcheck.Value](t, bd, rel, bucket.Options{})
	if engine(a).Store.Layout() != engine(local).Store.Layout() {
		t.Fatalf("layouts differ: %v and %v", engine(a).Store.Layout(), engine(local).Store.Layout())
	}
	if err := a.Set(key, selfcheck.New(key, "A", 0, 200)); err != nil {
		t.Fatal(err)
	}
	cold, err := bucket.Open[string, selfcheck.Value](bd.at("B", rel), bucket.Options{MemoryLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer cold.Close()

	var (
		stop                                  atomic.Bool
		written                               atomic.Uint64 // the last version renamed into place
		reads, hits, misses, rawOpens, estale atomic.Int64
		bad                                   atomic.Int64
		wg                                    sync.WaitGroup
	)
	report := func(format string, args ...any) {
		if bad.Add(1) <= 5 {
			t.Errorf(format, args...)
		}
	}
	reader := func(b *bucket.Bucket[string, selfcheck.Value]) {
		defer wg.Done()
		for !stop.Load() {
			floor := written.Load()
			v, err := b.Get(key)
			reads.Add(1)
			switch {
			case errors.Is(err, bucket.ErrNotFound):
				misses.Add(1)
			case err != nil:
				report("get: %v", err)
			case selfcheck.Check(key, v) != nil:
				report("get: %v", selfcheck.Check(key, v))
			case v.Seq < floor:
				report("get: version %d after version %d was in place", v.Seq, floor)
			default:
				hits.Add(1)
			}
		}
	}
	raw := func() {
		defer wg.Done()
		buf := make([]byte, 4096)
		for !stop.Load() {
			fd, err := unix.Open(filepath.Join(bd.at("B", rel), entryPath), unix.O_RDONLY|unix.O_CLOEXEC, 0)
			rawOpens.Add(1)
			if err == unix.ESTALE {
				estale.Add(1)
			} else if err == nil {
				unix.Read(fd, buf)
				unix.Close(fd)
			}
		}
	}
	wg.Add(5)
	go reader(cold)
	go reader(cold)
	go reader(warm)
	go raw()
	go raw()

	dst := filepath.Join(bd.at("A", rel), entryPath)
	start := time.Now()
	for n := 1; n <= versions; n++ {
		tmp := filepath.Join(filepath.Dir(dst), fmt.Sprintf("%s%d", shard.TempPrefix, n))
		if err := os.WriteFile(tmp, encoded[n], 0o666); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, dst); err != nil {
			t.Fatal(err)
		}
		written.Store(uint64(n))
	}
	elapsed := time.Since(start)
	stop.Store(true)
	wg.Wait()
	t.Logf("renames %d in %v; bucket reads %d: hits %d, misses %d (ESTALE after retries), bad %d; raw opens %d, ESTALE %d",
		versions, elapsed.Round(time.Millisecond), reads.Load(), hits.Load(), misses.Load(), bad.Load(), rawOpens.Load(), estale.Load())
	fmt.Fprintf(os.Stderr, "FIGURES estale: renames=%d reads=%d hits=%d misses=%d bad=%d raw_opens=%d raw_estale=%d\n",
		versions, reads.Load(), hits.Load(), misses.Load(), bad.Load(), rawOpens.Load(), estale.Load())
}
