package bucket

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// A child process (this test binary, re-run) writes runs of one repeated
// sequence number while the parent reads: a torn or mixed value shows up as a
// run with two different numbers, and a stale one as a number going back.

const childEnv = "BUCKET_TEST_CHILD_DIR"

func TestChildWriter(t *testing.T) {
	dir := os.Getenv(childEnv)
	if dir == "" {
		t.Skip("run by TestCrossProcessNoTornReads")
	}
	b := open[string, []int](t, dir, Options{})
	n, _ := strconv.Atoi(os.Getenv("BUCKET_TEST_WRITES"))
	for seq := 1; seq <= n; seq++ {
		run := make([]int, 2000)
		for i := range run {
			run[i] = seq
		}
		if err := b.Set(fmt.Sprint("k", seq%4), run); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Set("done", []int{n}); err != nil {
		t.Fatal(err)
	}
}

func TestCrossProcessNoTornReads(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		return
	}
	dir := t.TempDir()
	b := open[string, []int](t, dir, Options{})
	const writes = 400
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildWriter$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, "BUCKET_TEST_WRITES="+strconv.Itoa(writes))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	last := make(map[string]int)
	reads := 0
	check := func() {
		for k := 0; k < 4; k++ {
			key := fmt.Sprint("k", k)
			if reads%3 == 0 {
				b.Unload(key) // mix cold reads with warm ones
			}
			run, err := b.Get(key)
			reads++
			if errors.Is(err, ErrNotFound) {
				if last[key] != 0 {
					t.Fatalf("%s vanished after holding %d", key, last[key])
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(run) != 2000 {
				t.Fatalf("%s: torn value of length %d", key, len(run))
			}
			for _, x := range run {
				if x != run[0] {
					t.Fatalf("%s: mixed value %d and %d", key, run[0], x)
				}
			}
			if run[0] < last[key] {
				t.Fatalf("%s: went back from %d to %d", key, last[key], run[0])
			}
			last[key] = run[0]
		}
	}
	for running := true; running; {
		select {
		case err := <-waited:
			if err != nil {
				t.Fatalf("child: %v", err)
			}
			running = false
		default:
		}
		check()
	}
	check()
	if v, err := b.Get("done"); err != nil || v[0] != writes {
		t.Fatalf("final marker: %v %v", v, err)
	}
	for k := 0; k < 4; k++ { // the child's last writes, seen warm or cold
		want := writes - (writes-k)%4
		if k == 0 {
			want = writes
		}
		if got := last[fmt.Sprint("k", k)]; got != want {
			t.Fatalf("k%d: last read %d, want the child's last write %d", k, got, want)
		}
	}
	t.Logf("%d reads while a child process wrote %d values", reads, writes)
}
