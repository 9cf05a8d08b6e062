//go:build unix

package bucket

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Cross-process memoization tests re-run this test binary as child
// processes. Every run of the memoized function appends a line to a count
// file opened O_APPEND, so the parent counts runs across all processes.

const (
	memoChildEnv  = "BUCKET_TEST_MEMO_DIR"  // the bucket directory
	memoChildMode = "BUCKET_TEST_MEMO_MODE" // "many" or "hang"
)

// memoWork is the memoized function's body in every process: it records the
// run in the count file and returns a value naming the process and the key.
func memoWork(dir string, hang bool) func(context.Context, int) (string, error) {
	return func(_ context.Context, k int) (string, error) {
		f, err := os.OpenFile(filepath.Join(dir, "runs"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return "", err
		}
		_, err = fmt.Fprintf(f, "%d %d\n", k, os.Getpid())
		f.Close()
		if err != nil {
			return "", err
		}
		if hang {
			fmt.Println("computing")
			time.Sleep(time.Hour) // until killed
		}
		time.Sleep(20 * time.Millisecond) // the work: long enough for others to pile up
		return fmt.Sprintf("key %d computed by %d", k, os.Getpid()), nil
	}
}

// runsIn returns the count file's lines, "key pid" each.
func runsIn(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "runs"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	text := strings.TrimSpace(string(data))
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

// TestMemoChild is the child process's side.
func TestMemoChild(t *testing.T) {
	dir := os.Getenv(memoChildEnv)
	if dir == "" {
		t.Skip("run by the cross-process memo tests")
	}
	b := open[int, string](t, filepath.Join(dir, "bucket"), Options{})
	mode := os.Getenv(memoChildMode)
	f := Memoize(b, "work", memoWork(dir, mode == "hang"))
	if mode == "hang" {
		f(context.Background(), 1)
		return
	}
	keys, _ := strconv.Atoi(os.Getenv("BUCKET_TEST_MEMO_KEYS"))
	goroutines, _ := strconv.Atoi(os.Getenv("BUCKET_TEST_MEMO_GOROUTINES"))
	fmt.Println("ready")
	if line, err := bufio.NewReader(os.Stdin).ReadString('\n'); line != "go\n" {
		t.Fatalf("waiting for go: %q %v", line, err)
	}
	var mu sync.Mutex
	var lines []string
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range keys {
				k := (g + i) % keys
				v, err := f(context.Background(), k)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				lines = append(lines, fmt.Sprintf("%d=%s", k, v))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	s := b.Stats()
	for _, l := range lines {
		fmt.Println(l)
	}
	fmt.Printf("stats %d %d\n", s.MemoExecutions, s.MemoWaits)
}

// TestMemoAcrossProcesses: P processes x G goroutines call the memoized
// function with the same few keys on a cold cache, all released at once:
// each key's function runs exactly once in total, and every caller in every
// process gets that run's result.
func TestMemoAcrossProcesses(t *testing.T) {
	if os.Getenv(memoChildEnv) != "" {
		return
	}
	const procs, goroutines, keys = 4, 8, 3
	dir := t.TempDir()
	type child struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   *bufio.Reader
	}
	var children []child
	for range procs {
		cmd, stdin, out := startChild(t, "TestMemoChild", memoChildEnv+"="+dir, memoChildMode+"=many",
			"BUCKET_TEST_MEMO_KEYS="+strconv.Itoa(keys), "BUCKET_TEST_MEMO_GOROUTINES="+strconv.Itoa(goroutines))
		children = append(children, child{cmd, stdin, out})
	}
	for i, c := range children { // all started and ready: then release them together
		if line, err := c.out.ReadString('\n'); line != "ready\n" {
			t.Fatalf("child %d: %q %v", i, line, err)
		}
	}
	for _, c := range children {
		io.WriteString(c.stdin, "go\n")
	}
	results := map[int]map[string]int{} // key -> result -> callers
	executions, waits := 0, 0
	for i, c := range children {
		rest, _ := io.ReadAll(c.out)
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v\n%s", i, err, rest)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(rest)), "\n") {
			var e, w int
			if _, err := fmt.Sscanf(line, "stats %d %d", &e, &w); err == nil {
				executions += e
				waits += w
				continue
			}
			ks, v, ok := strings.Cut(line, "=")
			k, err := strconv.Atoi(ks)
			if !ok || err != nil {
				continue // test framework output
			}
			if results[k] == nil {
				results[k] = map[string]int{}
			}
			results[k][v]++
		}
	}
	runs := runsIn(t, dir)
	sort.Strings(runs)
	if len(runs) != keys || executions != keys {
		t.Fatalf("%d runs recorded (%v), %d executions counted, for %d keys called by %d processes x %d goroutines",
			len(runs), runs, executions, keys, procs, goroutines)
	}
	for _, run := range runs {
		var k, pid int
		if _, err := fmt.Sscanf(run, "%d %d", &k, &pid); err != nil {
			t.Fatalf("run record %q: %v", run, err)
		}
		want := fmt.Sprintf("key %d computed by %d", k, pid)
		if len(results[k]) != 1 || results[k][want] != procs*goroutines {
			t.Fatalf("key %d: callers got %v; want %q for all %d", k, results[k], want, procs*goroutines)
		}
	}
	t.Logf("%d processes x %d goroutines x %d keys: %d runs, %d waits on another process", procs, goroutines, keys, len(runs), waits)
}

// TestMemoTakeOverFromKilledProcess: a child process starts computing and is
// killed with SIGKILL while this process waits for its result; this process
// then runs the function itself, promptly, and leaves no lock file.
func TestMemoTakeOverFromKilledProcess(t *testing.T) {
	if os.Getenv(memoChildEnv) != "" {
		return
	}
	dir := t.TempDir()
	cmd, _, stdout := startChild(t, "TestMemoChild", memoChildEnv+"="+dir, memoChildMode+"=hang")
	if line, err := stdout.ReadString('\n'); line != "computing\n" {
		t.Fatalf("child: %q %v", line, err)
	}

	b := open[int, string](t, filepath.Join(dir, "bucket"), Options{})
	m := newMemo(b, "work", memoWork(dir, false))
	waiting := make(chan struct{}, 1)
	m.waiting = func() { waiting <- struct{}{} }
	r := goCall(context.Background(), m.call, 1)
	within(t, waiting, "this process to wait for the child's run")
	killed := time.Now()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	got := within(t, r, "the takeover")
	took := time.Since(killed)
	cmd.Wait()
	want := fmt.Sprintf("key 1 computed by %d", os.Getpid())
	if got.v != want || got.err != nil {
		t.Fatalf("after the kill: %q, %v; want %q", got.v, got.err, want)
	}
	if runs := runsIn(t, dir); len(runs) != 2 {
		t.Fatalf("runs %v; want the killed child's and this process's", runs)
	}
	if s := b.Stats(); s.MemoExecutions != 1 || s.MemoWaits != 1 {
		t.Fatalf("stats %+v", s)
	}
	lockFileGone(t, m, 1)
	if v, err := m.call(context.Background(), 1); v != want || err != nil {
		t.Fatalf("the result was not stored: %q, %v", v, err)
	}
	t.Logf("took over %v after the kill (the function itself takes 20ms)", took)
}
