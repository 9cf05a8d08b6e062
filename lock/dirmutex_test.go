//go:build unix

package lock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// dirMutexes opens parent and returns a constructor of DirMutexes on the
// lock file "lock" in parent/"d", and the directory's path. Like the store,
// the opener makes the directory and refuses a symbolic link in its place.
func dirMutexes(t *testing.T, parent string) (newMutex func() *DirMutex, dir string) {
	t.Helper()
	pfd, err := unix.Open(parent, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(pfd) })
	openDir := func() (int, error) {
		fd, err := unix.Openat(pfd, "d", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err == unix.ENOENT {
			if err := unix.Mkdirat(pfd, "d", 0o777); err != nil && err != unix.EEXIST {
				return -1, err
			}
			fd, err = unix.Openat(pfd, "d", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		}
		return fd, err
	}
	dir = filepath.Join(parent, "d")
	return func() *DirMutex {
		m := NewDir(pfd, "d", "lock", DirOptions{OpenDir: openDir, Path: dir})
		t.Cleanup(func() {
			if !t.Failed() { // a failed test may have left it held
				m.Close()
			}
		})
		return m
	}, dir
}

func mustLockDir(t *testing.T, m *DirMutex) int {
	t.Helper()
	fd, err := m.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// sameFile reports whether the open descriptor fd is the file at path.
func sameFile(t *testing.T, fd int, path string) bool {
	t.Helper()
	var a, b unix.Stat_t
	if err := unix.Fstat(fd, &a); err != nil {
		t.Error(err) // not Fatal: it may run outside the test's goroutine
		return false
	}
	if err := unix.Lstat(path, &b); err != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

func TestDirMutexInProcessExclusion(t *testing.T) {
	newMutex, dir := dirMutexes(t, t.TempDir())
	m := newMutex()
	hammer(t, func() error {
		fd, err := m.Lock(context.Background())
		if err == nil && !sameFile(t, fd, dir) {
			t.Error("Lock returned a descriptor that is not the directory")
		}
		return err
	}, func() { m.Unlock() })
	if _, err := os.Stat(filepath.Join(dir, "lock")); err != nil {
		t.Fatalf("lock file not made: %v", err)
	}
}

// Two DirMutexes, or a DirMutex and a Mutex, on one lock file exclude each
// other: the old and the new lock of one bucket agree.
func TestDirMutexExcludesOthersOnTheFile(t *testing.T) {
	newMutex, dir := dirMutexes(t, t.TempDir())
	a, b := newMutex(), newMutex()
	mustLockDir(t, a)
	if _, ok, err := b.TryLock(); ok || err != nil {
		t.Fatalf("second DirMutex took a held lock: %v %v", ok, err)
	}
	plain := New(filepath.Join(dir, "lock"))
	if ok, err := plain.TryLock(); ok || err != nil {
		t.Fatalf("a Mutex took a held DirMutex's lock: %v %v", ok, err)
	}
	a.Unlock()
	if ok, err := plain.TryLock(); !ok || err != nil {
		t.Fatalf("Mutex could not take the free lock: %v %v", ok, err)
	}
	if _, ok, err := b.TryLock(); ok || err != nil {
		t.Fatalf("DirMutex took a lock a Mutex holds: %v %v", ok, err)
	}
	plain.Unlock()
	if _, ok, err := b.TryLock(); !ok || err != nil {
		t.Fatalf("DirMutex could not take the free lock: %v %v", ok, err)
	}
	b.Unlock()
}

// A directory removed and made again, or a lock file deleted, while the lock
// was free: a DirMutex that kept the old file open must move to the new one,
// never hold a lock on a file nobody else can see.
func TestDirMutexFollowsReplacedFiles(t *testing.T) {
	for _, tc := range []struct {
		name    string
		replace func(t *testing.T, dir string)
	}{
		{"directory remade", func(t *testing.T, dir string) {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(dir, 0o777); err != nil {
				t.Fatal(err)
			}
		}},
		{"lock file deleted", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "lock")); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			newMutex, dir := dirMutexes(t, t.TempDir())
			old := newMutex()
			mustLockDir(t, old)
			old.Unlock()
			tc.replace(t, dir)

			fresh := newMutex()
			mustLockDir(t, fresh)
			if _, ok, err := old.TryLock(); ok || err != nil {
				t.Fatalf("the DirMutex holding the old file took the lock beside a holder: %v %v", ok, err)
			}
			fresh.Unlock()
			fd := mustLockDir(t, old)
			if !sameFile(t, fd, dir) {
				t.Fatal("Lock returned a directory the path does not name")
			}
			if _, ok, err := fresh.TryLock(); ok || err != nil {
				t.Fatalf("took the lock beside a holder: %v %v", ok, err)
			}
			old.Unlock()
		})
	}
}

// A directory moved aside and replaced by a symbolic link: Lock refuses
// (through the opener) and touches nothing at either place.
func TestDirMutexRefusesASymlinkedDirectory(t *testing.T) {
	parent := t.TempDir()
	newMutex, dir := dirMutexes(t, parent)
	m := newMutex()
	mustLockDir(t, m)
	m.Unlock()
	aside, target := filepath.Join(parent, "aside"), filepath.Join(parent, "target")
	if err := os.Rename(dir, aside); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(target, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Lock(context.Background()); err == nil {
		t.Fatal("Lock took the lock through a symbolic link")
	} else if !errors.Is(err, unix.ELOOP) && !errors.Is(err, unix.ENOTDIR) {
		t.Fatalf("unexpected error: %v", err)
	}
	if _, err := os.Stat(filepath.Join(target, "lock")); !os.IsNotExist(err) {
		t.Fatalf("a lock file appeared behind the symlink: %v", err)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	fd := mustLockDir(t, m) // the name is free again: a new directory
	if !sameFile(t, fd, dir) {
		t.Fatal("Lock returned a directory the path does not name")
	}
	m.Unlock()
}

func TestDirMutexLockHonoursContext(t *testing.T) {
	newMutex, dir := dirMutexes(t, t.TempDir())
	holder, waiter := newMutex(), newMutex()
	mustLockDir(t, holder)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() {
		_, err := waiter.Lock(ctx)
		got <- err
	}()
	blockedOn(t, inode(t, filepath.Join(dir, "lock")))
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), filepath.Join(dir, "lock")) {
		t.Fatalf("Lock = %v, want context.Canceled naming the lock file", err)
	}
	// Until the abandoned wait has given the lock back, the waiter's next
	// Lock waits in this process, and honours its context there too.
	short, cancelShort := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancelShort()
	if _, err := waiter.Lock(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock while the abandoned wait is pending = %v, want context.DeadlineExceeded", err)
	}
	holder.Unlock()
	// The abandoned wait must not keep the lock: both can take it again.
	mustLockDir(t, waiter)
	waiter.Unlock()
	mustLockDir(t, holder)
	holder.Unlock()
}

func TestDirMutexClose(t *testing.T) {
	newMutex, _ := dirMutexes(t, t.TempDir())
	m := newMutex()
	mustLockDir(t, m)
	var unlocked atomic.Bool
	started, closed := make(chan struct{}), make(chan bool)
	go func() {
		close(started)
		m.Close()
		closed <- unlocked.Load()
	}()
	<-started
	runtime.Gosched()
	unlocked.Store(true)
	m.Unlock()
	if !<-closed {
		t.Fatal("Close returned while the lock was held")
	}
	if _, err := m.Lock(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Lock after Close = %v, want ErrClosed", err)
	}
	if _, _, err := m.TryLock(); !errors.Is(err, ErrClosed) {
		t.Fatalf("TryLock after Close = %v, want ErrClosed", err)
	}
}

func TestDirMutexErrorNamesPath(t *testing.T) {
	parent := t.TempDir()
	newMutex, dir := dirMutexes(t, parent)
	if err := os.WriteFile(dir, nil, 0o644); err != nil { // a file where the directory should be
		t.Fatal(err)
	}
	_, err := newMutex().Lock(context.Background())
	if err == nil {
		t.Fatal("Lock succeeded on a file")
	}
	os.Remove(dir)
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "lock"), 0o777); err != nil { // a directory where the lock file should be
		t.Fatal(err)
	}
	_, err = newMutex().Lock(context.Background())
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "lock")) {
		t.Fatalf("error %v does not name the lock file", err)
	}
}

// TestDirMutexAcrossProcesses runs read-modify-write cycles on a counter file
// from several processes with DirMutexes and this one with a Mutex on the same
// lock file; without exclusion, updates would be lost.
func TestDirMutexAcrossProcesses(t *testing.T) {
	if os.Getenv("LOCK_TEST_DIR_CHILD") != "" {
		return
	}
	parent := t.TempDir()
	if err := os.Mkdir(filepath.Join(parent, "d"), 0o777); err != nil {
		t.Fatal(err)
	}
	counter := filepath.Join(parent, "n")
	os.WriteFile(counter, []byte("0"), 0o644)
	const procs, cycles = 4, 100
	// This process takes part too, through the lock file's path, as older
	// versions did.
	done := make(chan struct{})
	go func() {
		defer close(done)
		plain := New(filepath.Join(parent, "d", "lock"))
		for i := 0; i < cycles; i++ {
			if err := plain.Lock(context.Background()); err != nil {
				t.Error(err)
				return
			}
			err := increment(counter)
			plain.Unlock()
			if err != nil {
				t.Error(err)
				return
			}
		}
	}()
	runChildren(t, "TestDirMutexChildIncrement", procs, "LOCK_TEST_DIR_CHILD="+parent, "LOCK_TEST_CYCLES="+strconv.Itoa(cycles))
	<-done
	data, _ := os.ReadFile(counter)
	if want := strconv.Itoa((procs + 1) * cycles); string(data) != want {
		t.Fatalf("counter %s, want %s", data, want)
	}
}

func TestDirMutexChildIncrement(t *testing.T) {
	parent := os.Getenv("LOCK_TEST_DIR_CHILD")
	if parent == "" {
		t.Skip("run by TestDirMutexAcrossProcesses")
	}
	cycles, _ := strconv.Atoi(os.Getenv("LOCK_TEST_CYCLES"))
	newMutex, _ := dirMutexes(t, parent)
	m := newMutex()
	for i := 0; i < cycles; i++ {
		mustLockDir(t, m)
		if err := increment(filepath.Join(parent, "n")); err != nil {
			t.Fatal(err)
		}
		m.Unlock()
	}
}

// increment adds one to the number in the file counter.
func increment(counter string) error {
	data, err := os.ReadFile(counter)
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(string(data))
	return os.WriteFile(counter, []byte(strconv.Itoa(n+1)), 0o644)
}
