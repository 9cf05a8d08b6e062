//go:build linux

package stress

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
)

// TestLoad: Procs child processes x Goroutines goroutines on one bucket
// directory, for Duration, mixing every operation; then the checks described
// in the package documentation, on the logs and on the directory.
func TestLoad(t *testing.T) {
	if os.Getenv(childModeEnv) != "" {
		t.Skip("child")
	}
	prof := getProfile(t)
	_, seed := rngFor(t)
	work := t.TempDir()
	dir := filepath.Join(work, "bucket")
	writers := prof.Procs * prof.Goroutines
	cfg := loadConfig{
		Procs:      prof.Procs,
		Goroutines: prof.Goroutines,
		Owned:      max(2, prof.Keys/2/writers),
		Shared:     max(4, prof.Keys/2),
		Exp:        max(4, prof.Keys/8),
		MemoArgs:   max(4, prof.Keys/4),
		EpochNs:    int64(500 * time.Millisecond),
		T0:         mono(),
		Shards:     prof.Shards,
	}
	children := make([]*child, prof.Procs)
	for p := range children {
		children[p] = startChild(t, "load", strconv.Itoa(p), work, seed+uint64(p)*7919, cfg, prof.Duration+5*time.Minute)
	}
	for _, c := range children {
		c.waitReady(t, 2*time.Minute)
	}
	began := time.Now()
	for _, c := range children {
		if _, err := c.stdin.Write([]byte("go\n")); err != nil {
			t.Fatal(err)
		}
	}
	// Run for Duration, or until a child stops early (which fails below).
	timer := time.NewTimer(prof.Duration)
	early := make(chan *child, len(children))
	for _, c := range children {
		go func() {
			<-c.done
			early <- c
		}()
	}
	select {
	case <-timer.C:
	case c := <-early:
		t.Errorf("child %s stopped before the end: %v", c.id, c.err)
	}
	for _, c := range children {
		c.stdin.Close()
	}
	failed := false
	for _, c := range children {
		err := c.wait(t, 3*time.Minute)
		if err != nil || troubleIn(c.output()) != "" {
			failed = true
			t.Errorf("child %s: %v\n%s", c.id, err, c.output())
		}
	}
	ran := time.Since(began)
	if failed {
		t.FailNow()
	}

	// The reports.
	ops := map[string]int{}
	own := map[string]ownState{}
	called := map[int]bool{}
	var memoStats bucket.Stats
	var pruned bucket.PruneInfo
	for p := range children {
		var rep loadReport
		data, err := os.ReadFile(filepath.Join(work, fmt.Sprintf("report-%d.json", p)))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &rep); err != nil {
			t.Fatal(err)
		}
		for k, n := range rep.Ops {
			ops[k] += n
		}
		for k, st := range rep.Own {
			own[k] = st
		}
		for _, a := range rep.MemoArgs {
			called[a] = true
		}
		memoStats.MemoHits += rep.MemoStats.MemoHits
		memoStats.MemoMisses += rep.MemoStats.MemoMisses
		memoStats.MemoExecutions += rep.MemoStats.MemoExecutions
		memoStats.MemoWaits += rep.MemoStats.MemoWaits
		pruned.Expired += rep.Prune.Expired
		pruned.Temp += rep.Prune.Temp
		pruned.Corrupt += rep.Prune.Corrupt
	}
	if pruned.Temp != 0 || pruned.Corrupt != 0 {
		t.Errorf("Prune during the run removed %d temporary and %d damaged files; with no crash and no damage there are none it may remove", pruned.Temp, pruned.Corrupt)
	}

	// A fresh Bucket: every owned key holds exactly its owner's last
	// acknowledged write, or nothing after its last delete.
	b := openBucket(t, dir, bucket.Options{})
	lost := 0
	for k, st := range own {
		v, err := b.Get(k)
		switch {
		case st.Present && err != nil:
			lost++
			t.Errorf("owned key %q: %v; its owner's last acknowledged write was %d (lost write)", k, err, st.Seq)
		case st.Present:
			if e := checkValue(k, v, "", st.Seq); e != nil {
				lost++
				t.Errorf("owned key %q: %v", k, e)
			}
		case err == nil:
			lost++
			t.Errorf("owned key %q holds write %d, but its owner deleted it last (op %d)", k, v.Seq, st.Seq)
		case !isNotFound(err):
			t.Errorf("owned key %q: %v", k, err)
		}
	}
	if want := writers * cfg.Owned; len(own) != want {
		t.Errorf("reports cover %d owned keys, want %d", len(own), want)
	}

	// The shared keys' histories, ending with a fresh read of each.
	h := histories{}
	logs, _ := filepath.Glob(filepath.Join(work, "hist-*.log"))
	if len(logs) != writers {
		t.Fatalf("%d history logs, want %d", len(logs), writers)
	}
	for _, path := range logs {
		if err := h.readHistory(path); err != nil {
			t.Fatal(err)
		}
	}
	histOps, reads, stale := 0, 0, 0
	for i := range cfg.Shared {
		k := sharedKey(i)
		final := hop{kind: 'R'}
		v, err := b.Get(k)
		switch {
		case err == nil:
			if e := checkValue(k, v, "", 0); e != nil {
				t.Errorf("shared key %q: %v", k, e)
				continue
			}
			final.writer, final.seq = v.Writer, v.Seq
		case isNotFound(err):
			final.absent = true
		default:
			t.Errorf("shared key %q: %v", k, err)
			continue
		}
		violations, n := checkKey(k, h[k], final)
		histOps += len(h[k])
		reads += n
		stale += len(violations)
		for j, v := range violations {
			if j == 5 {
				t.Errorf("%s: %d more violations", k, len(violations)-5)
				break
			}
			t.Error(v)
		}
	}

	// Each memoized argument ran exactly once, in all processes together.
	runs := map[int]int{}
	totalRuns := 0
	for _, line := range readLines(t, filepath.Join(work, "memo-runs")) {
		arg, err := strconv.Atoi(strings.Fields(line)[0])
		if err != nil {
			t.Fatalf("memo-runs: %q", line)
		}
		runs[arg]++
		totalRuns++
	}
	extra := 0
	for arg := range called {
		if runs[arg] != 1 {
			extra += runs[arg] - 1
			t.Errorf("memoized argument %d ran %d times, want exactly once", arg, runs[arg])
		}
	}
	for arg := range runs {
		if !called[arg] {
			t.Errorf("memoized argument %d ran but no caller reported it", arg)
		}
	}
	if int64(totalRuns) != memoStats.MemoExecutions {
		t.Errorf("Stats.MemoExecutions add up to %d over the processes, the run log has %d runs", memoStats.MemoExecutions, totalRuns)
	}

	// Expiring keys: a valid value or nothing.
	for i := range cfg.Exp {
		k := expKey(i)
		if v, err := b.Get(k); err == nil {
			if e := checkValue(k, v, "", 0); e != nil {
				t.Errorf("%q: %v", k, e)
			}
		} else if !isNotFound(err) {
			t.Errorf("%q: %v", k, err)
		}
	}

	// The directory: whole entries, no temporary file, every lock free.
	scan := scanDir(t, dir, true)
	scan.expectClean(t, "after the load", false)

	total := 0
	var kinds []string
	for k, n := range ops {
		total += n
		kinds = append(kinds, fmt.Sprintf("%s:%d", k, n))
	}
	sort.Strings(kinds)
	figures(t,
		"seed", seed, "procs", prof.Procs, "goroutines", prof.Goroutines,
		"keys", fmt.Sprintf("%d(owned %d, shared %d, expiring %d)", writers*cfg.Owned+cfg.Shared+cfg.Exp, writers*cfg.Owned, cfg.Shared, cfg.Exp),
		"duration", ran.Round(time.Millisecond), "ops", total,
		"ops/s", int(float64(total)/ran.Seconds()),
		"by-kind", strings.Join(kinds, ","),
		"history-ops", histOps, "reads-checked", reads,
		"memo-calls", ops["memo"], "memo-args", len(called), "memo-runs", totalRuns,
		"memo-waits", memoStats.MemoWaits, "expired-pruned", pruned.Expired,
		"entries", scan.Entries, "locks-free", scan.Locks,
		"stale-reads", stale, "lost-writes", lost, "extra-memo-runs", extra,
	)
}
