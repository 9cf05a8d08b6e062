package bucket

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/lock"
	"github.com/bucketcache/bucketcache/shard"
)

const lockHolderEnv = "BUCKET_TEST_LOCK_HOLDER_DIR"

// shardLockPath is the lock file of key's shard.
func shardLockPath[K, V any](t *testing.T, b *Bucket[K, V], key K) string {
	kb, err := b.keyBytes(key)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(b.Dir(), b.st.Layout().DirName(b.st.ShardOf(kb)), shard.LockName)
}

// TestLockHolder is the other process: it writes "k", then holds the lock
// of k's shard until its standard input closes.
func TestLockHolder(t *testing.T) {
	dir := os.Getenv(lockHolderEnv)
	if dir == "" {
		t.Skip("run by TestSetContextGivesUpOnAnotherProcessLock")
	}
	b := open[string, string](t, dir, Options{})
	if err := b.Set("k", "holder's value"); err != nil {
		t.Fatal(err)
	}
	m := lock.New(shardLockPath(t, b, "k"))
	if err := m.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("locked\n")
	bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes it
	if err := m.Unlock(); err != nil {
		t.Fatal(err)
	}
}

// A Set waiting for a shard lock that another process holds returns when
// its context ends, with the context's error, having changed nothing: the
// holder's value stays whole, no temporary file is left, and no lock is
// left held in this process (a Set after the holder lets go succeeds).
func TestSetContextGivesUpOnAnotherProcessLock(t *testing.T) {
	if os.Getenv(lockHolderEnv) != "" {
		return
	}
	dir := t.TempDir()
	cmd, stdin, stdout := startChild(t, "TestLockHolder", lockHolderEnv+"="+dir)
	defer cmd.Wait()
	defer stdin.Close()
	line, err := stdout.ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("holder: %q %v", line, err)
	}

	b := open[string, string](t, dir, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = b.SetContext(ctx, "k", "waiter's value")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SetContext on a shard another process holds: %v, want DeadlineExceeded", err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel2)
	if err := b.DeleteContext(ctx2, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("DeleteContext on a shard another process holds: %v, want Canceled", err)
	}
	if v, err := b.Get("k"); err != nil || v != "holder's value" {
		t.Fatalf("after the cancelled Set and Delete: %q, %v; want the holder's value", v, err)
	}
	names, err := os.ReadDir(filepath.Dir(shardLockPath(t, b, "k")))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if strings.HasPrefix(n.Name(), shard.TempPrefix) {
			t.Errorf("cancelled Set left a temporary file %s", n.Name())
		}
	}

	stdin.Close() // the holder lets go and exits
	if err := cmd.Wait(); err != nil {
		t.Fatalf("holder: %v", err)
	}
	if err := b.SetContext(context.Background(), "k", "waiter's value"); err != nil {
		t.Fatalf("Set after the holder let go: %v", err)
	}
	if v, err := b.Get("k"); err != nil || v != "waiter's value" {
		t.Fatalf("after the holder let go: %q, %v", v, err)
	}
}
