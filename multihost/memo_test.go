//go:build linux

package multihost

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
)

// Memoizing processes on both hosts call one memoized function for the same
// arguments at the same moment. Every run of the function appends a line to
// a count file on the local disk (both hosts are processes of this machine),
// so the parent counts the runs of all processes exactly.

type memoArgs struct {
	Dir        string // the bucket directory, through this host's mount
	Name       string // the process's name, part of every result it computes
	Runs       string // the count file, on local disk
	Keys       int
	Goroutines int
	Work       time.Duration // how long a run takes
}

type memoReport struct {
	Name       string
	Results    map[int][]string // the results the process's calls returned, by key
	Errors     []string
	Executions int64
	Waits      int64
	Hits       int64
}

func init() { childJobs["memo"] = memoChild }

// memoWork is the memoized function in process name: it records its run
// and returns a result naming the process.
func memoWork(runs, name string, work time.Duration) func(context.Context, int) (string, error) {
	return func(_ context.Context, k int) (string, error) {
		if err := appendLine(runs, fmt.Sprintf("%d %s", k, name)); err != nil {
			return "", err
		}
		time.Sleep(work) // the computation: others pile up meanwhile
		return fmt.Sprintf("key %d computed by %s", k, name), nil
	}
}

// appendLine appends line to the file at path, in one write.
func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(line + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func memoChild(t *testing.T, raw []byte) {
	var a memoArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatal(err)
	}
	b, err := bucket.Open[int, string](a.Dir, bucket.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	f := bucket.Memoize(b, "work", memoWork(a.Runs, a.Name, a.Work))
	cmds := commands()
	say("ready")
	await(t, cmds, "go")
	var mu sync.Mutex
	r := memoReport{Name: a.Name, Results: map[int][]string{}}
	var wg sync.WaitGroup
	for g := range a.Goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range a.Keys {
				k := (i + g) % a.Keys // goroutines start on different keys
				v, err := f(context.Background(), k)
				mu.Lock()
				if err != nil {
					r.Errors = append(r.Errors, fmt.Sprintf("key %d: %v", k, err))
				} else {
					r.Results[k] = append(r.Results[k], v)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	st := b.Stats()
	r.Executions, r.Waits, r.Hits = st.MemoExecutions, st.MemoWaits, st.MemoHits
	sayReport(t, r)
}

// runsByKey reads a count file: the processes that ran the function, by key.
func runsByKey(t *testing.T, path string) map[int][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	runs := map[int][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var k int
		var name string
		if _, err := fmt.Sscanf(line, "%d %s", &k, &name); err == nil {
			runs[k] = append(runs[k], name)
		}
	}
	return runs
}

// TestMemoizeOnceAcrossHosts: two processes on each host, four goroutines
// each, call a memoized function for the same 12 arguments at once. Each
// argument's function runs exactly once in all, and every call returns
// that run's result.
func TestMemoizeOnceAcrossHosts(t *testing.T) { onEach(t, testMemoizeOnceAcrossHosts) }

func testMemoizeOnceAcrossHosts(t *testing.T, bd *bed) {
	rel := bd.bucketDir(t)
	runs := filepath.Join(t.TempDir(), "runs")
	const keys = 12
	rounds := 1
	if long() {
		rounds = 10
	}
	var execs, waits, hits int64
	for round := range rounds {
		var kids []*child
		for _, host := range []string{"A", "B"} {
			for p := range 2 {
				name := fmt.Sprintf("%s%d", host, p)
				kids = append(kids, startChild(t, name, bd.ns(host), "memo", memoArgs{
					Dir: bd.at(host, rel+fmt.Sprint("-", round)), Name: name, Runs: runs + fmt.Sprint(round),
					Keys: keys, Goroutines: 4, Work: 50 * time.Millisecond,
				}))
			}
		}
		for _, c := range kids {
			c.expect("ready", time.Minute)
		}
		for _, c := range kids {
			c.send("go")
		}
		results := map[int]map[string]bool{}
		for _, c := range kids {
			var r memoReport
			c.report(&r, 3*time.Minute)
			c.wait(time.Minute)
			for _, e := range r.Errors {
				t.Errorf("%s: %s", r.Name, e)
			}
			for k, vs := range r.Results {
				if results[k] == nil {
					results[k] = map[string]bool{}
				}
				for _, v := range vs {
					results[k][v] = true
				}
			}
			execs += r.Executions
			waits += r.Waits
			hits += r.Hits
		}
		got := runsByKey(t, runs+fmt.Sprint(round))
		for k := range keys {
			if len(got[k]) != 1 {
				t.Errorf("round %d, key %d: the function ran %d times (%v), want once", round, k, len(got[k]), got[k])
				continue
			}
			want := fmt.Sprintf("key %d computed by %s", k, got[k][0])
			if len(results[k]) != 1 || !results[k][want] {
				t.Errorf("round %d, key %d: calls returned %v, want only %q", round, k, results[k], want)
			}
		}
	}
	t.Logf("rounds %d, keys %d, processes 4 on 2 hosts: executions %d, lock waits %d, hits %d",
		rounds, keys, execs, waits, hits)
	fmt.Fprintf(os.Stderr, "FIGURES memo: rounds=%d keys=%d processes=4 hosts=2 calls=%d executions=%d waits=%d hits=%d failed=%v\n",
		rounds, keys, rounds*keys*4*4, execs, waits, hits, t.Failed())
}
