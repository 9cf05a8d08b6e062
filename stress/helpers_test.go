//go:build linux

package stress

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/internal/core"
	"github.com/bucketcache/bucketcache/internal/selfcheck"
)

// profile is the size of a run. The defaults are the CI profile; the
// environment scales it (see the package documentation).
type profile struct {
	Duration    time.Duration // TestLoad's running time
	Procs       int           // TestLoad's child processes
	Goroutines  int           // goroutines per child process
	Keys        int           // TestLoad's keys
	Shards      int           // shard count of the buckets (few: more contention)
	Kills       int           // TestCrash's kills, at least
	Corruptions int           // TestCorruption's faults
	Hostile     int           // random hostile keys, beyond the fixed list
}

func getProfile(t testing.TB) profile {
	t.Helper()
	p := profile{
		Duration:    envDuration(t, "STRESS_DURATION", 30*time.Second),
		Procs:       envInt(t, "STRESS_PROCS", 3),
		Goroutines:  envInt(t, "STRESS_GOROUTINES", 4),
		Keys:        envInt(t, "STRESS_KEYS", 64),
		Shards:      envInt(t, "STRESS_SHARDS", 16),
		Kills:       envInt(t, "STRESS_KILLS", 52),
		Corruptions: envInt(t, "STRESS_CORRUPTIONS", 400),
		Hostile:     envInt(t, "STRESS_HOSTILE", 100),
	}
	if p.Procs < 1 || p.Goroutines < 1 || p.Keys < 8 || p.Shards < 1 {
		t.Fatalf("profile too small: %+v (need procs, goroutines, shards >= 1, keys >= 8)", p)
	}
	return p
}

func envInt(t testing.TB, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return n
}

func envDuration(t testing.TB, name string, def time.Duration) time.Duration {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return d
}

// runSeed is the seed of the whole run: STRESS_SEED, or a fresh one.
var runSeed = sync.OnceValue(func() uint64 {
	if s := os.Getenv("STRESS_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err == nil {
			return n
		}
		panic(fmt.Sprintf("STRESS_SEED=%q: %v", s, err))
	}
	return rand.Uint64() >> 1
})

// rngFor returns t's random source, seeded from the run's seed and the
// test's name, and logs how to replay it.
func rngFor(t testing.TB) (*rand.Rand, uint64) {
	seed := runSeed()
	h := fnv.New64a()
	h.Write([]byte(t.Name()))
	t.Logf("seed %d (replay with STRESS_SEED=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, h.Sum64())), seed
}

// figures logs what a test did, as "figures TestName: k=v ...", and appends
// the line to the file STRESS_FIGURES names, if any.
func figures(t testing.TB, pairs ...any) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "figures %s:", t.Name())
	for i := 0; i+1 < len(pairs); i += 2 {
		fmt.Fprintf(&b, " %v=%v", pairs[i], pairs[i+1])
	}
	line := b.String()
	t.Log(line)
	if path := os.Getenv("STRESS_FIGURES"); path != "" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			t.Errorf("STRESS_FIGURES: %v", err)
			return
		}
		fmt.Fprintln(f, line)
		f.Close()
	}
}

// mono reads the machine's monotonic clock, common to all its processes, in
// nanoseconds.
func mono() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		panic(err)
	}
	return ts.Nano()
}

// Value is the self-checking value every test stores.
type Value = selfcheck.Value

type vbucket = bucket.Bucket[string, Value]

func openBucket(t testing.TB, dir string, opts bucket.Options) *vbucket {
	t.Helper()
	b, err := bucket.Open[string, Value](dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// checkValue reports whether v, read under key, is intact, belongs to key,
// and is the seq'th write of writer (any writer or seq when empty or 0).
func checkValue(key string, v Value, writer string, seq uint64) error {
	if err := selfcheck.Check(key, v); err != nil {
		return err
	}
	if writer != "" && v.Writer != writer {
		return fmt.Errorf("value of %q written by %q, want %q", key, v.Writer, writer)
	}
	if seq != 0 && v.Seq != seq {
		return fmt.Errorf("value of %q is write %d of %s, want write %d", key, v.Seq, v.Writer, seq)
	}
	return nil
}

// isNotFound reports errors that mean the key is absent.
func isNotFound(err error) bool { return errors.Is(err, bucket.ErrNotFound) }

// writeFile writes data to path, creating parent directories.
func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// appendLine appends one line to an O_APPEND file with a single write, so
// that lines from many goroutines and processes never interleave.
func appendLine(f *os.File, format string, args ...any) error {
	_, err := f.WriteString(fmt.Sprintf(format, args...) + "\n")
	return err
}

// readLines returns a file's complete lines (a last line cut short by a
// kill is dropped).
func readLines(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	} else {
		return nil
	}
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

// errorBudget limits how many failures a test reports before stopping.
type errorBudget struct {
	t  testing.TB
	mu sync.Mutex
	n  int
}

// fail reports a failure; the first 30 are printed, the rest counted.
func (e *errorBudget) fail(format string, args ...any) {
	e.t.Helper()
	e.mu.Lock()
	e.n++
	n := e.n
	e.mu.Unlock()
	switch {
	case n <= 30:
		e.t.Errorf(format, args...)
	case n == 31:
		e.t.Errorf("more failures follow; only counted")
	default:
		e.t.Fail()
	}
}

func (e *errorBudget) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}

// engine is b's engine, for tests that look beneath the Bucket.
func engine[K, V any](b *bucket.Bucket[K, V]) *core.Engine[K, V] { return core.Of[K, V](b) }
