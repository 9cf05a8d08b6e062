//go:build linux

package stress

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/internal/selfcheck"
	"github.com/bucketcache/bucketcache/shard"
)

// The counters file at a bucket's root is shared by every process through
// mmap; it tells each process's memory layer when another has changed a
// shard. These tests delete, zero and truncate it on a populated bucket in
// use, as a temporary-file cleaner, a bad disk or a careless person might:
// every Get must still return the current value or ErrNotFound, never a
// value that has been replaced, and no process may crash.

// expectCurrent checks that b's Get of k returns write seq of writer, or
// ErrNotFound; an older value is a stale read.
func expectCurrent(t *testing.T, what string, b *vbucket, k, writer string, seq uint64) {
	t.Helper()
	v, err := b.Get(k)
	switch {
	case isNotFound(err):
	case err != nil:
		t.Errorf("%s: Get(%q): %v", what, k, err)
	case v.Writer != writer || v.Seq != seq:
		t.Errorf("%s: Get(%q) returned write %d of %s, which write %d of %s has replaced (stale value from memory)",
			what, k, v.Seq, v.Writer, seq, writer)
	default:
		if e := checkValue(k, v, writer, seq); e != nil {
			t.Errorf("%s: %v", what, e)
		}
	}
}

// TestCountersFileDeleted: a process opens the bucket after the counters
// file was deleted (and so makes a new one) while others still map the old
// one. Writers check the path on every change, so the old side's writes
// reach the new side at once; readers check it every 100 ms, so the new
// side's writes reach the old side within that bound.
func TestCountersFileDeleted(t *testing.T) {
	if os.Getenv(childModeEnv) != "" {
		t.Skip("child")
	}
	dir := filepath.Join(t.TempDir(), "bucket")
	old := openBucket(t, dir, bucket.Options{})
	k := "k"
	if err := old.Set(k, selfcheck.New(k, "old", 1, 10)); err != nil {
		t.Fatal(err)
	}
	expectCurrent(t, "before", old, k, "old", 1) // in memory now
	if err := os.Remove(filepath.Join(dir, shard.CountersName)); err != nil {
		t.Fatal(err)
	}
	late := openBucket(t, dir, bucket.Options{})
	expectCurrent(t, "late opener", late, k, "old", 1)
	if err := late.Set(k, selfcheck.New(k, "late", 2, 10)); err != nil {
		t.Fatal(err)
	}
	// The process still mapping the deleted file learns of the new one when
	// it next checks the path: within shard's recheck interval (100 ms).
	// Until then it may serve the value it kept; never anything older.
	deadline := time.Now().Add(time.Second)
	for {
		v, err := old.Get(k)
		if err == nil && v.Writer == "late" && v.Seq == 2 {
			break
		}
		if err == nil && (v.Writer != "old" || v.Seq != 1) || err != nil && !isNotFound(err) {
			t.Fatalf("while the deletion goes unnoticed: %+v %v", v, err)
		}
		if time.Now().After(deadline) {
			t.Fatal("a Bucket opened before the counters file was deleted never saw a write by one opened after")
		}
		time.Sleep(5 * time.Millisecond) // polling for the documented bound
	}
	if err := old.Set(k, selfcheck.New(k, "old", 3, 10)); err != nil {
		t.Fatal(err)
	}
	expectCurrent(t, "Bucket opened after the counters file was deleted, after a write by one opened before", late, k, "old", 3)
}

// TestCountersFileZeroed: the counters file is overwritten with zeros in
// place while Buckets use it.
func TestCountersFileZeroed(t *testing.T) {
	if os.Getenv(childModeEnv) != "" {
		t.Skip("child")
	}
	dir := filepath.Join(t.TempDir(), "bucket")
	w := openBucket(t, dir, bucket.Options{})
	r := openBucket(t, dir, bucket.Options{})
	k := "k"
	if err := w.Set(k, selfcheck.New(k, "w", 1, 10)); err != nil {
		t.Fatal(err)
	}
	expectCurrent(t, "before", r, k, "w", 1) // in r's memory now
	path := filepath.Join(dir, shard.CountersName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, fi.Size()), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := w.Set(k, selfcheck.New(k, "w", 2, 10)); err != nil {
		t.Fatal(err)
	}
	expectCurrent(t, "after the counters file was zeroed and the key rewritten", r, k, "w", 2)
}

// TestCountersFileTruncated: the counters file is truncated to nothing
// while a process has it mapped. The process must go on working (reads
// right or ErrNotFound, writes succeeding or failing with an error), not
// die of SIGBUS. The process is a child, so that a crash is observed, not
// suffered.
func TestCountersFileTruncated(t *testing.T) {
	if os.Getenv(childModeEnv) != "" {
		t.Skip("child")
	}
	work := t.TempDir()
	dir := filepath.Join(work, "bucket")
	b := openBucket(t, dir, bucket.Options{})
	if err := b.Set("k", selfcheck.New("k", "parent", 1, 10)); err != nil {
		t.Fatal(err)
	}
	c := startChild(t, "counters", "counters", work, 1, struct{}{}, time.Minute)
	c.waitReady(t, time.Minute)
	if err := os.Truncate(filepath.Join(dir, shard.CountersName), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.stdin.Write([]byte("go\n")); err != nil {
		t.Fatal(err)
	}
	c.stdin.Close()
	if err := c.wait(t, time.Minute); err != nil || troubleIn(c.output()) != "" {
		t.Errorf("a process using the bucket died (%v) when its counters file was truncated:\n%s", err, firstLines(c.output(), 12))
	}
	// And a process that opens the bucket now works too.
	fresh, err := bucket.Open[string, Value](dir, bucket.Options{})
	if err != nil {
		t.Fatalf("Open after the counters file was truncated: %v", err)
	}
	defer fresh.Close()
	if v, err := fresh.Get("k"); err != nil && !isNotFound(err) {
		t.Errorf("Get after the counters file was truncated: %v", err)
	} else if err == nil && checkValue("k", v, "", 0) != nil {
		t.Errorf("Get after the counters file was truncated: %v", checkValue("k", v, "", 0))
	}
	if err := fresh.Set("k", selfcheck.New("k", "parent", 3, 10)); err != nil {
		t.Errorf("Set after the counters file was truncated: %v", err)
	}
}

// runCountersChild reads a key into memory, says it is ready, and once told
// to go (by then its counters file has been truncated) reads and writes.
func runCountersChild(t *testing.T, c *childCtx) {
	b, err := bucket.Open[string, Value](filepath.Join(c.dir, "bucket"), bucket.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	expectCurrent(t, "child before", b, "k", "parent", 1)
	ready()
	<-c.start
	expectCurrent(t, "child after truncation", b, "k", "parent", 1)
	if err := b.Set("k", selfcheck.New("k", "child", 2, 10)); err != nil {
		t.Logf("Set after truncation: %v", err) // an error is acceptable, a crash is not
	}
	if _, err := b.Get("k"); err != nil && !isNotFound(err) {
		t.Errorf("Get after truncation: %v", err)
	}
}

func firstLines(s string, n int) string {
	lines := 0
	for i, c := range s {
		if c == '\n' {
			lines++
			if lines == n {
				return s[:i] + "\n..."
			}
		}
	}
	return s
}
