//go:build unix

package deferred

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
)

// Tests here re-run the test binary as a child process, marked by childEnv.
const (
	childEnv  = "DEFERRED_TEST_CHILD"     // what the child does: "read" or "sync-loop"
	childDir  = "DEFERRED_TEST_DIR"       // the bucket directory
	childKeys = "DEFERRED_TEST_KEYS"      // how many keys
	childSize = "DEFERRED_TEST_VALUE_LEN" // bytes of each value (sync-loop)
)

// TestChildRead prints, for each key k0..kN-1 and "gone", its value or "-".
func TestChildRead(t *testing.T) {
	if os.Getenv(childEnv) != "read" {
		t.Skip("run by TestCrossProcessVisibility")
	}
	b, err := bucket.Open[string, string](os.Getenv(childDir), bucket.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(os.Getenv(childKeys))
	keys := []string{"gone"}
	for i := range n {
		keys = append(keys, fmt.Sprint("k", i))
	}
	for _, k := range keys {
		v, err := b.Get(k)
		switch {
		case errors.Is(err, bucket.ErrNotFound):
			v = "-"
		case err != nil:
			t.Fatal(err)
		}
		fmt.Printf("%s=%s\n", k, v)
	}
}

func runChild(t *testing.T, name string, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.v")
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child %s: %v\n%s%s", name, err, out, stderr.Bytes())
	}
	return string(out)
}

func TestCrossProcessVisibility(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child")
	}
	b := open[string, string](t, t.TempDir(), bucket.Options{})
	mustSet(t, b, "gone", "here")
	mustSet(t, b, "k0", "old")
	d := New(b)
	const n = 20
	for i := range n {
		mustSet(t, d, fmt.Sprint("k", i), fmt.Sprint("v", i))
	}
	if err := d.Delete("gone"); err != nil {
		t.Fatal(err)
	}
	read := func() string {
		return runChild(t, "TestChildRead", childEnv+"=read", childDir+"="+b.Dir(), childKeys+"="+strconv.Itoa(n))
	}
	var before, after strings.Builder
	before.WriteString("gone=here\nk0=old\n")
	after.WriteString("gone=-\n")
	for i := range n {
		if i > 0 {
			fmt.Fprintf(&before, "k%d=-\n", i)
		}
		fmt.Fprintf(&after, "k%d=v%d\n", i, i)
	}
	if got := read(); !strings.Contains(got, before.String()) {
		t.Fatalf("child saw pending writes before Sync:\n%s\nwant:\n%s", got, before.String())
	}
	mustSync(t, d)
	if got := read(); !strings.Contains(got, after.String()) {
		t.Fatalf("child after Sync saw:\n%s\nwant:\n%s", got, after.String())
	}
}

// value is the content of every entry written in round r: a run of one
// repeated number, so a torn or mixed value is visible.
func value(r, size int) []byte {
	unit := fmt.Sprintf("r%07d|", r)
	return bytes.Repeat([]byte(unit), size/len(unit))
}

// parseValue returns the round a value was written in, or an error if it is
// not a whole value of one round.
func parseValue(v []byte, size int) (int, error) {
	if len(v) < 9 || len(v) != size/9*9 {
		return 0, fmt.Errorf("length %d", len(v))
	}
	r, err := strconv.Atoi(string(v[1:8]))
	if err != nil || !bytes.Equal(v, value(r, size)) {
		return 0, fmt.Errorf("mixed or damaged value starting %q", v[:min(len(v), 40)])
	}
	return r, nil
}

// TestChildSyncLoop writes every key in round 1, 2, 3, ... and syncs after
// each round, recording the last round completed in the file "round".
func TestChildSyncLoop(t *testing.T) {
	if os.Getenv(childEnv) != "sync-loop" {
		t.Skip("run by TestKillDuringSync")
	}
	dir := os.Getenv(childDir)
	n, _ := strconv.Atoi(os.Getenv(childKeys))
	size, _ := strconv.Atoi(os.Getenv(childSize))
	b, err := bucket.Open[int, []byte](dir, bucket.Options{Codec: bucket.Raw})
	if err != nil {
		t.Fatal(err)
	}
	d := New(b)
	for r := 1; ; r++ {
		v := value(r, size)
		for k := range n {
			if err := d.Set(k, v); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Sync(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "round.tmp"), []byte(strconv.Itoa(r)), 0o666); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, "round.tmp"), filepath.Join(dir, "round")); err != nil {
			t.Fatal(err)
		}
	}
}

// TestKillDuringSync kills a child with SIGKILL while it is in the middle of
// a Sync (the parent waits until it sees some entries of a round written and
// others not), then checks that every entry holds one whole value: the old
// round or the new one.
func TestKillDuringSync(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child")
	}
	const keys, size = 64, 8 << 10
	midSync := 0
	for attempt := 0; attempt < 5 && midSync == 0; attempt++ {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestChildSyncLoop$")
		cmd.Env = append(os.Environ(), childEnv+"=sync-loop", childDir+"="+dir,
			childKeys+"="+strconv.Itoa(keys), childSize+"="+strconv.Itoa(size))
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()

		// Wait until round 1 is complete, then until a scan of the disk sees
		// two rounds at once: the child is inside a Sync. Kill it there.
		reader := open[int, []byte](t, dir, bucket.Options{Codec: bucket.Raw, MemoryLimit: -1})
		deadline := time.Now().Add(30 * time.Second)
		for {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("child made no progress")
			}
			select {
			case err := <-exited:
				t.Fatalf("child exited early: %v", err)
			default:
			}
			if _, err := os.Stat(filepath.Join(dir, "round")); err != nil {
				time.Sleep(time.Millisecond) // the child is still in round 1
				continue
			}
			lo, hi := scan(t, reader, keys, size)
			if lo != hi {
				break
			}
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-exited

		lo, hi := scan(t, reader, keys, size)
		if hi-lo > 1 {
			t.Fatalf("entries from rounds %d to %d: a Sync was skipped", lo, hi)
		}
		if lo != hi {
			midSync++
		}
		t.Logf("attempt %d: killed with entries of rounds %d to %d", attempt, lo, hi)
		info, err := reader.Prune()
		if err != nil {
			t.Fatal(err)
		}
		if info.Expired+info.Corrupt != 0 {
			t.Fatalf("Prune after the kill: %+v; only temporary files may be left", info)
		}
		if lo2, hi2 := scan(t, reader, keys, size); lo2 != lo || hi2 != hi {
			t.Fatalf("Prune changed the entries: rounds %d-%d, then %d-%d", lo, hi, lo2, hi2)
		}
	}
	if midSync == 0 {
		t.Fatal("the child was never killed in the middle of a Sync")
	}
}

// scan reads every key cold and returns the lowest and highest round found.
// Every entry must be present (round 1 is complete) and whole.
func scan(t *testing.T, b *bucket.Bucket[int, []byte], keys, size int) (lo, hi int) {
	t.Helper()
	for k := range keys {
		v, err := b.Get(k)
		if err != nil {
			t.Fatalf("key %d: %v", k, err)
		}
		r, err := parseValue(v, size)
		if err != nil {
			t.Fatalf("key %d: torn value: %v", k, err)
		}
		if k == 0 || r < lo {
			lo = r
		}
		hi = max(hi, r)
	}
	return lo, hi
}
