package lock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestInProcessExclusion(t *testing.T) {
	m := New(filepath.Join(t.TempDir(), "lock"))
	hammer(t, func() error { return m.Lock(context.Background()) }, func() { m.Unlock() })
}

// hammer runs 1,600 increments of a plain counter from 8 goroutines, each
// between lock and unlock, and checks that none was lost (and the race
// detector, that they never overlapped).
func hammer(t *testing.T, lock func() error, unlock func()) {
	t.Helper()
	var wg sync.WaitGroup
	n := 0 // guarded by the lock: the race detector proves it
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if err := lock(); err != nil {
					t.Error(err)
					return
				}
				n++
				unlock()
			}
		}()
	}
	wg.Wait()
	if n != 1600 {
		t.Fatalf("n = %d", n)
	}
}

func TestTwoMutexesOnOnePathExclude(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	a, b := New(path), New(path)
	if err := a.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.TryLock(); ok || err != nil {
		t.Fatalf("TryLock while held: %v %v", ok, err)
	}
	a.Unlock()
	if ok, err := b.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock when free: %v %v", ok, err)
	}
	b.Unlock()
}

func TestLockHonoursContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	holder, waiter := New(path), New(path)
	if err := holder.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() { errc <- waiter.Lock(ctx) }()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Lock after cancel: %v", err)
	}
	holder.Unlock()
	// The abandoned wait must give the lock back once it gets it.
	if err := waiter.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	waiter.Unlock()
	if err := holder.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	holder.Unlock()
}

func TestInProcessWaitHonoursContext(t *testing.T) {
	m := New(filepath.Join(t.TempDir(), "lock"))
	m.Lock(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if err := m.Lock(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	m.Unlock()
}

func TestErrorNamesPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "lock")
	err := New(path).Lock(context.Background())
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v", err)
	}
}

// TestAcrossProcesses runs read-modify-write cycles on a counter file from
// several processes; without exclusion, updates would be lost.
func TestAcrossProcesses(t *testing.T) {
	if os.Getenv("LOCK_TEST_CHILD") != "" {
		return
	}
	dir := t.TempDir()
	counter := filepath.Join(dir, "n")
	os.WriteFile(counter, []byte("0"), 0o644)
	const procs, cycles = 4, 100
	runChildren(t, "TestChildIncrement", procs, "LOCK_TEST_CHILD="+dir, "LOCK_TEST_CYCLES="+strconv.Itoa(cycles))
	data, _ := os.ReadFile(counter)
	if string(data) != fmt.Sprint(procs*cycles) {
		t.Fatalf("counter %s, want %d", data, procs*cycles)
	}
}

func TestChildIncrement(t *testing.T) {
	dir := os.Getenv("LOCK_TEST_CHILD")
	if dir == "" {
		t.Skip("run by TestAcrossProcesses")
	}
	cycles, _ := strconv.Atoi(os.Getenv("LOCK_TEST_CYCLES"))
	m := New(filepath.Join(dir, "lock"))
	counter := filepath.Join(dir, "n")
	for i := 0; i < cycles; i++ {
		if err := m.Lock(context.Background()); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(counter)
		n, _ := strconv.Atoi(string(data))
		os.WriteFile(counter, []byte(strconv.Itoa(n+1)), 0o644)
		m.Unlock()
	}
}

// runChildren runs procs copies of this test binary at once, each running
// only the test named test with env added to its environment, and waits for
// them all; any that fails fails t.
func runChildren(t *testing.T, test string, procs int, env ...string) {
	t.Helper()
	var cmds []*exec.Cmd
	for p := 0; p < procs; p++ {
		cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
		cmd.Env = append(os.Environ(), env...)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
	}
}
