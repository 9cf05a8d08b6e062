//go:build unix

package store

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/shard"

	"github.com/bucketcache/bucketcache/internal/fakeclock"
)

func fill(t *testing.T, s *Store, c *fakeclock.Clock, prefix string, n int, gap time.Duration) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := s.Put([]byte(fmt.Sprint(prefix, i)), rec("0123456789")); err != nil {
			t.Fatal(err)
		}
		c.Advance(gap)
	}
}

// recount counts the bucket's entry files from the directory, for checking
// the shared counters.
func recount(t *testing.T, dir string) (bytes, entries int64) {
	t.Helper()
	shards, _ := os.ReadDir(dir)
	for _, d := range shards {
		if !d.IsDir() {
			continue
		}
		files, _ := os.ReadDir(filepath.Join(dir, d.Name()))
		for _, f := range files {
			if _, ok := shard.ParseEntryName(f.Name()); ok {
				fi, _ := f.Info()
				bytes += fi.Size()
				entries++
			}
		}
	}
	return bytes, entries
}

func TestUsageIsCountedExactly(t *testing.T) {
	s := open(t, t.TempDir(), Config{Shards: 8, MaxEntries: 1 << 20})
	for i := 0; i < 100; i++ {
		s.Put([]byte(fmt.Sprint(i)), rec(fmt.Sprint(i*i)))
	}
	for i := 0; i < 30; i++ {
		s.Put([]byte(fmt.Sprint(i)), rec("replaced with something longer"))
	}
	for i := 50; i < 60; i++ {
		s.Delete([]byte(fmt.Sprint(i)))
	}
	s.WriteShard(s.ShardOf([]byte("70")), []Item{{Key: []byte("70"), Delete: true}})
	u := s.Usage()
	b, n := recount(t, s.Dir())
	if !u.Known || u.Bytes != b || u.Entries != n || n != 89 {
		t.Fatalf("usage %+v, directory has %d bytes in %d entries", u, b, n)
	}
}

func TestTrimEvictsLeastRecentlyUsed(t *testing.T) {
	c := fakeclock.New()
	grace := time.Minute
	s := open(t, t.TempDir(), Config{Now: c.Now, MaxEntries: 100, EvictionGrace: grace, TrimInterval: time.Hour})
	s.trimmer.stop() // drive trims by hand
	s.trimmer = nil
	fill(t, s, c, "old", 100, time.Second)
	c.Advance(10 * grace)
	// Read the first 20 again: they become the most recently used.
	for i := 0; i < 20; i++ {
		mustGet(t, s, fmt.Sprint("old", i))
	}
	c.Advance(3 * grace)
	fill(t, s, c, "new", 50, time.Second)
	c.Advance(3 * grace)
	info, err := s.Trim(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Before.Entries != 150 || info.After.Entries > 90 {
		t.Fatalf("trim %+v", info)
	}
	for i := 0; i < 20; i++ {
		if _, err := s.Get([]byte(fmt.Sprint("old", i))); err != nil {
			t.Fatalf("recently read old%d evicted", i)
		}
	}
	for i := 0; i < 50; i++ {
		if _, err := s.Get([]byte(fmt.Sprint("new", i))); err != nil {
			t.Fatalf("new%d evicted", i)
		}
	}
	if _, err := s.Get([]byte("old20")); err == nil {
		t.Fatal("the least recently used entry survived")
	}
	if s.Stats().Evictions != int64(info.Evicted) || info.Evicted != 60 {
		t.Fatalf("evictions %d, trim %+v", s.Stats().Evictions, info)
	}
}

func TestTrimSparesTheGracePeriodAndComputations(t *testing.T) {
	c := fakeclock.New()
	s := open(t, t.TempDir(), Config{Now: c.Now, MaxEntries: 10, EvictionGrace: time.Minute})
	s.trimmer.stop()
	s.trimmer = nil
	fill(t, s, c, "k", 30, 0)
	c.Advance(time.Minute) // all written exactly one grace period ago
	info, _ := s.Trim(context.Background())
	if info.Evicted != 0 || info.Protected != 30 {
		t.Fatalf("entries used within the grace period were evicted: %+v", info)
	}
	c.Advance(2 * time.Minute)
	lockPath, _ := s.KeyLockPath([]byte("k0")) // a memoized computation of k0 under way
	os.WriteFile(lockPath, nil, 0o644)
	info, _ = s.Trim(context.Background())
	if info.After.Entries > 9 || info.Evicted != 21 {
		t.Fatalf("trim %+v", info)
	}
	if _, err := s.Get([]byte("k0")); err != nil {
		t.Fatal("an entry being computed was evicted")
	}
}

func TestBackgroundTrimAfterWrites(t *testing.T) {
	c := fakeclock.New()
	s := open(t, t.TempDir(), Config{Now: c.Now, MaxBytes: 4000, EvictionGrace: time.Second, TrimInterval: time.Nanosecond})
	for i := 0; i < 100; i++ {
		s.Put([]byte(fmt.Sprint(i)), rec("0123456789"))
		c.Advance(time.Second)
	}
	c.Advance(time.Minute)
	s.Put([]byte("last"), rec("x")) // a write over the limit wakes the trimmer
	deadline := time.Now().Add(10 * time.Second)
	for s.Usage().Bytes > 4000 {
		if time.Now().After(deadline) {
			t.Fatalf("no background trim: %+v", s.Usage())
		}
		time.Sleep(time.Millisecond) // waiting on another goroutine's disk work
	}
	if _, err := s.Get([]byte("last")); err != nil {
		t.Fatal("the entry just written was evicted")
	}
}

const evictChildEnv = "STORE_EVICT_CHILD"

// TestEvictionChild is run by the tests below in child processes.
func TestEvictionChild(t *testing.T) {
	dir := os.Getenv(evictChildEnv)
	if dir == "" {
		t.Skip("run as a child process")
	}
	c := fakeclock.New()
	c.Advance(time.Hour * time.Duration(atoi(os.Getenv("STORE_CLOCK_HOURS"))))
	s, err := Open(dir, Config{Now: c.Now, MaxEntries: 200, EvictionGrace: time.Second, TrimInterval: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	switch os.Getenv("STORE_EVICT_ROLE") {
	case "writer":
		for i := 0; i < 150; i++ {
			if err := s.Put([]byte(fmt.Sprint(os.Getpid(), "-", i)), rec("value")); err != nil {
				t.Fatal(err)
			}
			c.Advance(time.Second)
		}
		c.Advance(time.Hour)
		if _, err := s.Trim(context.Background()); err != nil {
			t.Fatal(err)
		}
	case "crash-in-trim":
		n := 0
		testHookRemoved = func() {
			if n++; n == 5 {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}
		s.Trim(context.Background())
		t.Fatal("survived the kill")
	}
	s.Close()
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func runEvictChild(t *testing.T, dir, role string, hours int) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestEvictionChild$")
	cmd.Env = append(os.Environ(), evictChildEnv+"="+dir, "STORE_EVICT_ROLE="+role, "STORE_CLOCK_HOURS="+strconv.Itoa(hours))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

func TestProcessesWritingPastTheLimit(t *testing.T) {
	if os.Getenv(evictChildEnv) != "" {
		return
	}
	dir := t.TempDir()
	var cmds []*exec.Cmd
	for p := 0; p < 4; p++ {
		cmds = append(cmds, runEvictChild(t, dir, "writer", 0))
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("writer: %v", err)
		}
	}
	s := open(t, dir, Config{MaxEntries: 200})
	s.recountUnknown(context.Background())
	u := s.Usage()
	b, n := recount(t, dir)
	if !u.Known || u.Entries != n || u.Bytes != b {
		t.Fatalf("counters %+v after 4 processes, directory %d entries %d bytes", u, n, b)
	}
	if n > 200 || n < 100 {
		t.Fatalf("%d entries left of 600 written under a limit of 200", n)
	}
}

func TestCrashInTrim(t *testing.T) {
	if os.Getenv(evictChildEnv) != "" {
		return
	}
	dir := t.TempDir()
	c := fakeclock.New()
	s := open(t, dir, Config{Now: c.Now, MaxEntries: 200, Shards: 4})
	for i := 0; i < 300; i++ {
		s.Put([]byte(fmt.Sprint(i)), rec("v"))
	}
	cmd := runEvictChild(t, dir, "crash-in-trim", 2)
	if err := cmd.Wait(); err == nil {
		t.Fatal("the child was meant to die mid-trim")
	}
	// The dead trimmer held the trim lock and a shard lock: both are free,
	// and the counters are repaired by the next trim.
	c.Advance(3 * time.Hour)
	info, err := s.Trim(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, n := recount(t, dir)
	if info.After.Entries != n || info.After.Bytes != b || n > 180 {
		t.Fatalf("after a crash mid-trim: %+v, directory %d entries %d bytes", info, n, b)
	}
	for i := 0; i < 300; i++ { // whatever survived is intact
		if r, err := s.Get([]byte(fmt.Sprint(i))); err == nil && string(r.Value) != "v" {
			t.Fatal("damaged entry")
		}
	}
}

func TestUnlimitedWritersLeaveUsageToRecount(t *testing.T) {
	dir := t.TempDir()
	counted := open(t, dir, Config{Shards: 2, MaxEntries: 1000})
	free := open(t, dir, Config{})
	counted.Put([]byte("a"), rec("1"))
	free.Put([]byte("b"), rec("22"))
	if u := counted.Usage(); u.Known {
		t.Fatalf("a write without counting left usage claimed exact: %+v", u)
	}
	counted.recountUnknown(context.Background())
	b, n := recount(t, dir)
	if u := counted.Usage(); !u.Known || u.Entries != n || u.Bytes != b || n != 2 {
		t.Fatalf("after recount %+v, directory %d entries %d bytes", u, n, b)
	}
}
