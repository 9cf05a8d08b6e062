//go:build unix

package lock

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const removeChildEnv = "LOCK_TEST_REMOVE_CHILD"

// inode returns the inode the path names, or 0 when there is none.
func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		if err == unix.ENOENT {
			return 0
		}
		t.Fatal(err)
	}
	return st.Ino
}

// heldInode is the inode of the file r holds.
func heldInode(t *testing.T, r *Mutex) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(r.fd, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func TestMutexTryLockUnlockRemove(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.keylock")
	a, b := New(path), New(path)
	if ok, err := a.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock when free: %v %v", ok, err)
	}
	if ok, err := b.TryLock(); ok || err != nil {
		t.Fatalf("TryLock of another Mutex while held: %v %v", ok, err)
	}
	if ok, err := a.TryLock(); ok || err != nil {
		t.Fatalf("TryLock of the holder itself: %v %v", ok, err)
	}
	if err := a.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("lock file after Remove: %v", err)
	}
	if ok, err := b.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock after Remove: %v %v", ok, err)
	}
	if err := b.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("Unlock must keep the lock file: %v", err)
	}
	if err := b.Unlock(); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Unlock of an unheld lock: %v", err)
	}
	if err := b.Remove(); err == nil {
		t.Fatal("Remove of an unheld lock succeeded")
	}
}

func TestMutexRefusesBadPaths(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "k.keylock")
	err := New(path).Lock(context.Background())
	if err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Lock in a missing directory: %v", err)
	}
	if ok, err := New(path).TryLock(); ok || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("TryLock in a missing directory: %v %v", ok, err)
	}
	dir := t.TempDir() // a directory in the lock file's place is refused
	if err := New(dir).Lock(context.Background()); err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Lock of a directory: %v", err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(filepath.Join(t.TempDir(), "target"), link); err != nil {
		t.Fatal(err)
	}
	if err := New(link).Lock(context.Background()); err == nil {
		t.Fatal("Lock followed a symbolic link")
	}
}

// TestMutexExclusionWithRemove has goroutines, each with its own Mutex on one
// path, take the lock and alternately unlock or remove the file; an overlap
// of two holders shows up in the atomic count of those inside.
func TestMutexExclusionWithRemove(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.keylock")
	var inside, overlaps, removes atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := New(path)
			for i := 0; i < 300; i++ {
				if err := r.Lock(context.Background()); err != nil {
					t.Error(err)
					return
				}
				if inside.Add(1) != 1 {
					overlaps.Add(1)
				}
				runtime.Gosched()
				inside.Add(-1)
				var err error
				if i%2 == g%2 {
					removes.Add(1)
					err = r.Remove()
				} else {
					err = r.Unlock()
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := overlaps.Load(); n != 0 {
		t.Fatalf("%d times two holders were inside at once", n)
	}
	if removes.Load() != 1200 {
		t.Fatalf("removes = %d", removes.Load())
	}
}

// blockedOn waits until /proc/locks shows a process blocked in flock on the
// file with inode ino (the waiter is then surely waiting on that file).
func blockedOn(t *testing.T, ino uint64) {
	t.Helper()
	suffix := ":" + strconv.FormatUint(ino, 10)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		data, err := os.ReadFile("/proc/locks")
		if err != nil {
			t.Skipf("no /proc/locks: %v", err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) > 6 && f[1] == "->" && f[2] == "FLOCK" && strings.HasSuffix(f[6], suffix) {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("no waiter blocked on inode %d", ino)
}

// TestMutexWaiterStartsAgainAfterRemove: a waiter blocked on the old
// file gets its flock when the holder removes the file, must notice that the
// path no longer names that file, and hold the lock on the new one, so that a
// third party cannot take a lock beside it.
func TestMutexWaiterStartsAgainAfterRemove(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.keylock")
	holder, waiter, third := New(path), New(path), New(path)
	if err := holder.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	old := heldInode(t, holder)
	got := make(chan error, 1)
	go func() { got <- waiter.Lock(context.Background()) }()
	blockedOn(t, old)
	if err := holder.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if ino := heldInode(t, waiter); ino != inode(t, path) {
		t.Fatalf("waiter holds inode %d but the path names %d", ino, inode(t, path))
	}
	if ok, err := third.TryLock(); ok || err != nil {
		t.Fatalf("a third party took the lock beside the waiter: %v %v", ok, err)
	}
	if err := waiter.Remove(); err != nil {
		t.Fatal(err)
	}
}

func TestMutexBlockedLockHonoursContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.keylock")
	holder, waiter := New(path), New(path)
	if err := holder.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- waiter.Lock(ctx) }()
	blockedOn(t, heldInode(t, holder))
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), path) {
			t.Fatalf("Lock after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled Lock did not return")
	}
	if err := waiter.Lock(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock with a done context: %v", err)
	}
	if err := holder.Unlock(); err != nil {
		t.Fatal(err)
	}
	// The abandoned wait gives the lock back once it gets it.
	if err := waiter.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := waiter.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := holder.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	holder.Remove()
}

// TestMutexRemoveAcrossProcesses runs read-modify-write cycles on a counter
// file from several processes, each cycle removing the lock file: without
// the identity check, two processes would hold "the" lock at once and
// updates would be lost.
func TestMutexRemoveAcrossProcesses(t *testing.T) {
	if os.Getenv(removeChildEnv) != "" {
		return
	}
	dir := t.TempDir()
	counter := filepath.Join(dir, "n")
	if err := os.WriteFile(counter, []byte("0"), 0o644); err != nil {
		t.Fatal(err)
	}
	const procs, cycles = 4, 150
	runChildren(t, "TestMutexRemoveChildIncrement", procs, removeChildEnv+"="+dir, "LOCK_TEST_CYCLES="+strconv.Itoa(cycles))
	data, _ := os.ReadFile(counter)
	if string(data) != fmt.Sprint(procs*cycles) {
		t.Fatalf("counter %s, want %d", data, procs*cycles)
	}
	if _, err := os.Lstat(filepath.Join(dir, "k.keylock")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("lock file left behind: %v", err)
	}
}

func TestMutexRemoveChildIncrement(t *testing.T) {
	dir := os.Getenv(removeChildEnv)
	if dir == "" {
		t.Skip("run by TestMutexRemoveAcrossProcesses")
	}
	cycles, _ := strconv.Atoi(os.Getenv("LOCK_TEST_CYCLES"))
	r := New(filepath.Join(dir, "k.keylock"))
	counter := filepath.Join(dir, "n")
	for i := 0; i < cycles; i++ {
		if err := r.Lock(context.Background()); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(counter)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(string(data))
		runtime.Gosched()
		if err := os.WriteFile(counter, []byte(strconv.Itoa(n+1)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := r.Remove(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMutexHolderKilled: when the holder dies by kill -9, a waiter gets
// the lock at once, on the file the dead holder left behind.
func TestMutexHolderKilled(t *testing.T) {
	if os.Getenv(removeChildEnv) != "" {
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "k.keylock")
	cmd := exec.Command(os.Args[0], "-test.run=^TestMutexChildHold$")
	cmd.Env = append(os.Environ(), removeChildEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "held\n" {
		t.Fatalf("child: %q %v", line, err)
	}
	r := New(path)
	if ok, err := r.TryLock(); ok || err != nil {
		t.Fatalf("TryLock while the child holds: %v %v", ok, err)
	}
	got := make(chan error, 1)
	go func() { got <- r.Lock(context.Background()) }()
	blockedOn(t, inode(t, path))
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter did not take over from the killed holder")
	}
	cmd.Wait()
	if err := r.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("lock file left behind: %v", err)
	}
}

func TestMutexChildHold(t *testing.T) {
	dir := os.Getenv(removeChildEnv)
	if dir == "" {
		t.Skip("run by TestMutexHolderKilled")
	}
	r := New(filepath.Join(dir, "k.keylock"))
	if err := r.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	fmt.Println("held")
	time.Sleep(time.Hour) // until killed
}
