//go:build linux

package fusefs

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/internal/canon"
	"github.com/bucketcache/bucketcache/shard"
)

// requireFUSE skips the test when this process cannot mount, or fails it
// when BUCKETFS_REQUIRE_FUSE=1 (as CI sets it).
func requireFUSE(t testing.TB) {
	t.Helper()
	if err := CheckFUSE(); err != nil {
		if os.Getenv("BUCKETFS_REQUIRE_FUSE") == "1" {
			t.Fatalf("FUSE required (BUCKETFS_REQUIRE_FUSE=1) but unavailable: %v", err)
		}
		t.Skipf("FUSE unavailable: %v", err)
	}
}

// mountT mounts a view of bucketDir on a fresh temporary directory and
// unmounts it when the test ends (before the directory is removed).
func mountT(t testing.TB, bucketDir string, opts Options) (string, *Server) {
	t.Helper()
	requireFUSE(t)
	mnt := t.TempDir()
	srv, err := Mount(bucketDir, mnt, opts)
	if err != nil {
		t.Fatalf("Mount: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			t.Errorf("Unmount: %v", err)
			srv.UnmountLazy()
		}
	})
	return mnt, srv
}

// fakeClock is a clock tests move by hand; safe for concurrent use, since
// the server reads it from its own goroutines.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 600, time.UTC)

func openBucket[K, V any](t testing.TB, dir string, opts bucket.Options) *bucket.Bucket[K, V] {
	t.Helper()
	b, err := bucket.Open[K, V](dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// names lists a directory's names, sorted.
func names(t testing.TB, dir string) []string {
	t.Helper()
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	list, err := f.Readdirnames(-1)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// eventually polls cond until it holds or a deadline passes; for changes
// the kernel may cache for up to EntryTimeout.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * EntryTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not so after %v", what, 3*EntryTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// writeEntries writes n JSON entries straight into dir's entry files (the
// format is public), much faster than through a Bucket: entry i has the
// string key and JSON value that kv returns.
func writeEntries(t testing.TB, dir string, n int, kv func(i int) (string, []byte)) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := shard.Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	made := map[string]bool{}
	now := time.Now().UnixNano()
	var buf []byte
	for i := range n {
		k, v := kv(i)
		key, err := canon.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		rel := l.EntryPath(shard.Hash(key))
		if d := filepath.Dir(rel); !made[d] {
			if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
				t.Fatal(err)
			}
			made[d] = true
		}
		buf = shard.Append(buf[:0], "json", now, 0, key, v)
		if err := os.WriteFile(filepath.Join(dir, rel), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// memTempDir is a temporary directory on a memory filesystem when there is
// one (creating 10,000 files on a VM's disk takes seconds), else on the
// usual temporary directory. It is removed when the test ends.
func memTempDir(t testing.TB) string {
	t.Helper()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "bucketfs-test-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}
