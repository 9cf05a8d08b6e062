//go:build linux

package multihost

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/shard"
)

// openHosts opens the bucket directory rel through both mounts, as two
// hosts would: each Bucket has its own memory layer.
func openHosts[K, V any](t testing.TB, bd *bed, rel string, opts bucket.Options) (a, b *bucket.Bucket[K, V]) {
	t.Helper()
	var err error
	if a, err = bucket.Open[K, V](bd.at("A", rel), opts); err != nil {
		t.Fatal(err)
	}
	if b, err = bucket.Open[K, V](bd.at("B", rel), opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// TestSharedModeDetected: Open turns on the shared-filesystem mode by
// itself on a GlusterFS mount and on a CephFS (ceph-fuse) mount, and so
// maps no counters file: writes through a mapping would not reach the other
// host. On the CephFS test bed, whose client runs with its page cache off,
// a mapping cannot even be made (ENODEV).
func TestSharedModeDetected(t *testing.T) { onEach(t, testSharedModeDetected) }

func testSharedModeDetected(t *testing.T, bd *bed) {
	rel := bd.bucketDir(t)
	a, _ := openHosts[string, int](t, bd, rel, bucket.Options{})
	if !engine(a).Store.Config().SharedFilesystem {
		t.Fatalf("SharedFilesystem is off on a %s mount", bd.fs.title)
	}
	if err := a.Set("key", 1); err != nil {
		t.Fatal(err)
	}
	// The counters file is made with a new bucket, but never mapped.
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	if ctrs := filepath.Join(bd.at("A", rel), shard.CountersName); strings.Contains(string(maps), ctrs) {
		t.Errorf("%s is mapped in shared mode", ctrs)
	}
	if bd.fs != ceph {
		return
	}
	f, err := os.Create(filepath.Join(bd.at("A", rel), "mapped"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(4096); err != nil {
		t.Fatal(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err == nil {
		unix.Munmap(m)
	}
	if err != unix.ENODEV {
		t.Errorf("mmap on the CephFS mount: %v, want ENODEV (is fuse disable pagecache set?)", err)
	}
}

// TestNextGetSeesOtherHost: what one host writes or deletes, the other
// reads on its very next Get, although it holds the previous value in
// memory: the memory layer never serves a copy another host has replaced.
func TestNextGetSeesOtherHost(t *testing.T) { onEach(t, testNextGetSeesOtherHost) }

func testNextGetSeesOtherHost(t *testing.T, bd *bed) {
	a, b := openHosts[string, string](t, bd, bd.bucketDir(t), bucket.Options{})
	hosts := [2]*bucket.Bucket[string, string]{a, b}
	stale := 0
	for i := range 60 {
		w, r := hosts[i%2], hosts[1-i%2] // both directions
		key := fmt.Sprint("k", i%3)
		if _, err := r.Get(key); err != nil && !errors.Is(err, bucket.ErrNotFound) {
			t.Fatal(err) // warm the reader's memory with the old value
		}
		want := fmt.Sprintf("value %d, %s", i, string(make([]byte, i%7*100)))
		if err := w.Set(key, want); err != nil {
			t.Fatal(err)
		}
		got, err := r.Get(key)
		if err != nil || got != want {
			stale++
			if stale <= 3 {
				t.Errorf("round %d: the other host's next Get returned %.20q, %v; want %.20q", i, got, err, want)
			}
		}
		if i%5 == 4 {
			if err := w.Delete(key); err != nil {
				t.Fatal(err)
			}
			if got, err := r.Get(key); !errors.Is(err, bucket.ErrNotFound) {
				stale++
				t.Errorf("round %d: deleted on one host, the other's next Get returned %.20q, %v", i, got, err)
			}
		}
	}
	if stale > 0 {
		t.Errorf("%d stale reads in 60 rounds", stale)
	}
}

// TestVisibilityUnderLoad: a writer on host A publishes increasing
// versions of a key as fast as it can while readers on host B read it
// warm; a version is counted as written once Set has returned. No read may
// return a version older than one written before the read began, and the
// delay from a Set's return to the first read that sees it is recorded.
func TestVisibilityUnderLoad(t *testing.T) { onEach(t, testVisibilityUnderLoad) }

func testVisibilityUnderLoad(t *testing.T, bd *bed) {
	a, b := openHosts[string, int](t, bd, bd.bucketDir(t), bucket.Options{})
	const key = "counter"
	if err := a.Set(key, 0); err != nil {
		t.Fatal(err)
	}
	d := stress(3*time.Second, 30*time.Second)
	var (
		written  atomic.Int64 // the highest version whose Set has returned
		setAt    sync.Map     // version -> time its Set returned
		stop     atomic.Bool
		mu       sync.Mutex
		delays   []time.Duration // guarded by mu
		reads    atomic.Int64
		failures atomic.Int64
		wg       sync.WaitGroup
	)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen := int64(0)
			for !stop.Load() {
				floor := written.Load()
				v, err := b.Get(key)
				reads.Add(1)
				if err != nil || int64(v) < floor {
					if failures.Add(1) <= 3 {
						t.Errorf("read %d, %v after version %d was written", v, err, floor)
					}
					continue
				}
				if int64(v) > seen {
					seen = int64(v)
					if at, ok := setAt.Load(seen); ok {
						mu.Lock()
						delays = append(delays, time.Since(at.(time.Time)))
						mu.Unlock()
					}
				}
			}
		}()
	}
	deadline := time.Now().Add(d)
	n := 0
	for time.Now().Before(deadline) {
		n++
		if err := a.Set(key, n); err != nil {
			t.Fatal(err)
		}
		setAt.Store(int64(n), time.Now())
		written.Store(int64(n))
	}
	stop.Store(true)
	wg.Wait()
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	if len(delays) == 0 {
		t.Fatal("the readers never saw a new version")
	}
	p := func(q float64) time.Duration { return delays[int(q*float64(len(delays)-1))] }
	t.Logf("versions %d, reads %d, stale reads %d; from Set's return to first read: p50 %v p99 %v max %v",
		n, reads.Load(), failures.Load(), p(0.5), p(0.99), p(1))
	fmt.Fprintf(os.Stderr, "FIGURES visibility: versions=%d reads=%d stale=%d p50=%v p99=%v max=%v\n",
		n, reads.Load(), failures.Load(), p(0.5), p(0.99), p(1))
}
