//go:build linux

package stress

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/internal/canon"
	"github.com/bucketcache/bucketcache/internal/selfcheck"
)

// crashModes are the children of one TestCrash round, all killed at random
// moments: two memo children share arguments, so that one may wait for a
// run the other is killed in.
var crashModes = []string{"set", "sync", "memo", "memo", "prune"}

// crashTally counts what TestCrash did.
type crashTally struct {
	kills                              int
	midSet, midSync, midMemo, midPrune int // kills that hit an operation in flight
	temps                              int // temporary files the dead left, removed by Prune
	expiredPruned                      int
	recovered                          int // memoized arguments whose run was killed, finished by another process
	entries                            int // entry files verified, over all rounds
	lost                               int // acknowledged writes lost, or deletes undone
}

// TestCrash kills writer children at random moments, at least Kills times,
// and after each round checks the bucket with a fresh Bucket.
func TestCrash(t *testing.T) {
	if os.Getenv(childModeEnv) != "" {
		t.Skip("child")
	}
	prof := getProfile(t)
	rng, seed := rngFor(t)
	work := t.TempDir()
	dir := filepath.Join(work, "bucket")
	opts := bucket.Options{Shards: prof.Shards}
	live := openBucket(t, dir, opts)

	rounds := (prof.Kills + len(crashModes) - 1) / len(crashModes)
	var tally crashTally
	began := time.Now()
	for r := range rounds {
		crashRound(t, rng, seed, work, r, prof, live, &tally)
		if t.Failed() {
			t.Fatalf("round %d failed (seed %d)", r, seed)
		}
	}
	checkMemoRuns(t, filepath.Join(work, "memo-runs"))
	if tally.midSet == 0 || tally.midSync == 0 || tally.midMemo == 0 || tally.midPrune == 0 {
		t.Errorf("some operation kind was never interrupted by a kill: %+v", tally)
	}
	figures(t, "seed", seed, "rounds", rounds, "kills", tally.kills,
		"mid-set", tally.midSet, "mid-sync", tally.midSync, "mid-memoize", tally.midMemo, "mid-prune", tally.midPrune,
		"temp-files-left-and-pruned", tally.temps, "expired-pruned", tally.expiredPruned,
		"memo-runs-finished-by-another-process", tally.recovered,
		"entries-verified", tally.entries, "duration", time.Since(began).Round(time.Millisecond),
		"lost-writes", tally.lost)
}

func crashRound(t *testing.T, rng *rand.Rand, seed uint64, work string, r int, prof profile,
	live *vbucket, tally *crashTally) {
	dir := filepath.Join(work, "bucket")
	// Live entries that no Prune may remove.
	for i := range 20 {
		k := fmt.Sprintf("live/%d/%d", r, i)
		if err := live.Set(k, selfcheck.New(k, "parent", 1, 512)); err != nil {
			t.Fatal(err)
		}
	}

	children := make([]*child, len(crashModes))
	for slot, mode := range crashModes {
		cfg := crashConfig{
			Goroutines: 2, Keys: 8, Shards: prof.Shards,
			MemoBase:   (r*len(crashModes) + slot + 1) * 10_000_000,
			MemoShared: r * 100,
		}
		id := fmt.Sprintf("r%d-%s%d", r, mode, slot)
		children[slot] = startChild(t, mode, id, work, seed^uint64(r*100+slot), cfg, 5*time.Minute)
	}
	for slot, c := range children {
		// Kill at a random moment within 300 ms of the start; the prune
		// child 0 to 15 ms after it starts one of its first Prunes.
		delay := time.Duration(rng.IntN(300)) * time.Millisecond
		marks := 0
		if crashModes[slot] == "prune" {
			delay = time.Duration(rng.IntN(15)) * time.Millisecond
			marks = 1 + rng.IntN(3)
		}
		go func() {
			select {
			case <-c.ready:
			case <-c.done:
				return
			}
			for range marks {
				select {
				case <-c.marks:
				case <-c.done:
					return
				}
			}
			time.Sleep(delay) // the fault injection: a random moment of its work
			c.cmd.Process.Kill()
		}()
	}
	for _, c := range children {
		c.waitReady(t, 2*time.Minute)
	}
	for _, c := range children {
		c.wait(t, 2*time.Minute)
		if !c.killedBySIGKILL() {
			t.Fatalf("child %s ended by itself (%v), not by the kill:\n%s", c.id, c.err, c.output())
		}
		if line := troubleIn(c.output()); line != "" {
			t.Fatalf("child %s: %s\n%s", c.id, line, c.output())
		}
		tally.kills++
	}

	// No child is left: every lock must be free, every entry file whole.
	what := fmt.Sprintf("round %d", r)
	scan := scanDir(t, dir, true)
	scan.expectClean(t, what, true)
	tally.temps += len(scan.Temps)
	tally.entries += scan.Entries

	fresh, err := bucket.Open[string, Value](dir, bucket.Options{Shards: prof.Shards})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	// Prune removes what the dead left behind (before any Get, which
	// would remove expired entries itself).
	info, err := fresh.Prune()
	if err != nil {
		t.Errorf("%s: Prune: %v", what, err)
	}
	tally.expiredPruned += info.Expired
	if info.Temp != len(scan.Temps) {
		t.Errorf("%s: Prune removed %d temporary files, the scan found %d", what, info.Temp, len(scan.Temps))
	}
	if info.Corrupt != 0 {
		t.Errorf("%s: Prune removed %d damaged files after kills, which never damage a file", what, info.Corrupt)
	}
	for _, kb := range scan.Keys {
		verifyEntry(t, fresh, kb)
	}
	for slot, mode := range crashModes {
		c := children[slot]
		log := readLines(t, filepath.Join(work, "log-"+c.id))
		switch mode {
		case "set":
			inflight, lost := checkSetLog(t, fresh, log)
			tally.lost += lost
			if inflight {
				tally.midSet++
			}
		case "sync":
			inflight, lost := checkSyncLog(t, fresh, log, 8)
			tally.lost += lost
			if inflight {
				tally.midSync++
			}
		case "prune":
			// In flight: begun, not acknowledged, and with expired entries
			// left for it (the Prune above found them).
			if len(log) > 0 && strings.HasPrefix(log[len(log)-1], "B ") && info.Expired > 0 {
				tally.midPrune++
			}
		}
	}
	for i := range 20 {
		k := fmt.Sprintf("live/%d/%d", r, i)
		v, err := fresh.Get(k)
		if err != nil {
			t.Errorf("%s: live entry %q: %v (removed by a Prune?)", what, k, err)
		} else if e := checkValue(k, v, "parent", 1); e != nil {
			t.Errorf("%s: %v", what, e)
		}
	}
	mid, recovered := recoverMemo(t, work, r, prof.Shards)
	tally.midMemo += mid
	tally.recovered += recovered

	after := scanDir(t, dir, true)
	after.expectClean(t, what+" after Prune", false)
	for _, kb := range after.Keys {
		if s, ok := canon.String([]byte(kb)); ok && strings.HasPrefix(s, "prune/") {
			t.Errorf("%s: expired entry %q left after Prune", what, s)
		}
	}
}

// verifyEntry checks that the entry for key bytes kb, which a scan found
// whole, reads back through a fresh Bucket as an intact value of its key
// (or as absent when expired).
func verifyEntry(t testing.TB, b *vbucket, kb string) {
	t.Helper()
	rec, err := engine(b).Store.Get([]byte(kb))
	if isNotFound(err) {
		return // expired
	}
	if err != nil {
		t.Errorf("entry %q: %v", kb, err)
		return
	}
	var v Value
	if err := json.Unmarshal(rec.Value, &v); err != nil {
		t.Errorf("entry %q: %v", kb, err)
		return
	}
	if err := selfcheck.Check(v.Key, v); err != nil {
		t.Errorf("entry %q: %v", kb, err)
	}
	if s, ok := canon.String([]byte(kb)); ok && s != v.Key {
		t.Errorf("entry %q holds the value of %q", s, v.Key)
	}
}

// checkSetLog checks each key a set child wrote: it holds the state its last
// acknowledged operation left, or the one its operation in flight at the
// kill would leave. It reports whether an operation was in flight.
func checkSetLog(t testing.TB, b *vbucket, log []string) (inflight bool, lost int) {
	t.Helper()
	type keyLog struct {
		acked uint64
		ops   map[uint64]string // seq: "S" or "D"
		last  uint64
	}
	keys := map[string]*keyLog{}
	for _, line := range log {
		f := strings.Fields(line)
		seq, _ := strconv.ParseUint(f[2], 10, 64)
		kl := keys[f[1]]
		if kl == nil {
			kl = &keyLog{ops: map[uint64]string{}}
			keys[f[1]] = kl
		}
		switch f[0] {
		case "B":
			kl.ops[seq] = f[3]
			kl.last = max(kl.last, seq)
		case "A":
			kl.acked = max(kl.acked, seq)
		}
	}
	for k, kl := range keys {
		// What each possible last operation leaves: a value (its seq) or none (0).
		allowed := map[uint64]bool{}
		leaves := func(seq uint64) uint64 {
			if kl.ops[seq] == "S" {
				return seq
			}
			return 0
		}
		allowed[leaves(kl.acked)] = true // acked 0: never written, nothing
		if kl.last > kl.acked {
			inflight = true
			allowed[leaves(kl.last)] = true
		}
		v, err := b.Get(k)
		switch {
		case err == nil:
			if e := selfcheck.Check(k, v); e != nil {
				t.Errorf("%q: %v", k, e)
			} else if !allowed[v.Seq] {
				lost++
				t.Errorf("%q holds write %d; last acknowledged op %d (%s), in flight %d (%s): lost or resurrected write",
					k, v.Seq, kl.acked, kl.ops[kl.acked], kl.last, kl.ops[kl.last])
			}
		case isNotFound(err):
			if !allowed[0] {
				lost++
				t.Errorf("%q is absent; last acknowledged op %d (%s), in flight %d (%s): lost write",
					k, kl.acked, kl.ops[kl.acked], kl.last, kl.ops[kl.last])
			}
		default:
			t.Errorf("%q: %v", k, err)
		}
	}
	return inflight, lost
}

// checkSyncLog checks each group of keys a sync child wrote: every key holds
// the round of the last acknowledged Sync, or of the Sync in flight at the
// kill. It reports whether a Sync was in flight.
func checkSyncLog(t testing.TB, b *vbucket, log []string, keys int) (inflight bool, lost int) {
	t.Helper()
	acked, begun := map[string]uint64{}, map[string]uint64{}
	for _, line := range log {
		f := strings.Fields(line)
		round, _ := strconv.ParseUint(f[2], 10, 64)
		if f[0] == "A" {
			acked[f[1]] = max(acked[f[1]], round)
		} else {
			begun[f[1]] = max(begun[f[1]], round)
		}
	}
	for group, last := range begun {
		a := acked[group]
		if last > a {
			inflight = true
		}
		for i := range keys {
			k := fmt.Sprintf("%s/%d", group, i)
			v, err := b.Get(k)
			switch {
			case err == nil:
				if e := selfcheck.Check(k, v); e != nil {
					t.Errorf("%q: %v", k, e)
				} else if v.Seq != a && v.Seq != last {
					lost++
					t.Errorf("%q holds round %d; last acknowledged Sync %d, in flight %d: lost write", k, v.Seq, a, last)
				}
			case isNotFound(err):
				if a != 0 {
					lost++
					t.Errorf("%q is absent after acknowledged Sync %d: lost write", k, a)
				}
			default:
				t.Errorf("%q: %v", k, err)
			}
		}
	}
	return inflight, lost
}

// recoverMemo finds the memoized arguments whose run a kill interrupted in
// round r and calls the memoized function for each in this process: the
// dead holder's lock must not stop it. It returns how many memo children
// were killed mid-run, and how many arguments needed another run.
func recoverMemo(t *testing.T, work string, r, shards int) (mid, recovered int) {
	t.Helper()
	path := filepath.Join(work, "memo-runs")
	prefix := fmt.Sprintf("r%d-", r)
	started := map[string]map[int]bool{} // by child
	stored := map[int]bool{}
	storedBy := map[string]map[int]bool{}
	for _, line := range readLines(t, path) {
		f := strings.Fields(line)
		arg, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "start":
			if started[f[2]] == nil {
				started[f[2]] = map[int]bool{}
			}
			started[f[2]][arg] = true
		case "stored":
			stored[arg] = true
			if storedBy[f[2]] == nil {
				storedBy[f[2]] = map[int]bool{}
			}
			storedBy[f[2]][arg] = true
		}
	}
	var pending []int
	for id, args := range started {
		if !strings.HasPrefix(id, prefix) {
			continue
		}
		cut := false
		for arg := range args {
			if !storedBy[id][arg] {
				cut = true
				if !stored[arg] {
					pending = append(pending, arg)
				}
			}
		}
		if cut {
			mid++
		}
	}
	if len(pending) == 0 {
		return mid, 0
	}
	mb, err := bucket.Open[int, Value](filepath.Join(work, "bucket"), bucket.Options{Shards: shards})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	runs, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer runs.Close()
	memo := bucket.Memoize(mb, "crash", func(_ context.Context, arg int) (Value, error) {
		return memoValue(arg), appendLine(runs, "start %d parent", arg)
	})
	for _, arg := range pending {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		v, err := memo(ctx, arg)
		cancel()
		if err != nil {
			t.Errorf("memo(%d) after its run was killed: %v (a dead holder's lock still held?)", arg, err)
			continue
		}
		if e := checkValue(memoKey(arg), v, "memo", uint64(arg)+1); e != nil {
			t.Errorf("memo(%d): %v", arg, e)
		}
		if err := appendLine(runs, "stored %d parent", arg); err != nil {
			t.Fatal(err)
		}
		recovered++
	}
	return mid, recovered
}

// checkMemoRuns checks the memo-runs log of TestCrash: no argument's function
// started after a caller had its stored result, and at most one run per
// argument completed (a run completed if its process later reported the
// result: a killed process reports nothing).
func checkMemoRuns(t *testing.T, path string) {
	t.Helper()
	lines := readLines(t, path)
	storedSeen := map[int]bool{}
	type start struct {
		id  string
		idx int
	}
	starts := map[int][]start{}
	lastStored := map[string]int{} // "arg id" → index of its last stored line
	for i, line := range lines {
		f := strings.Fields(line)
		arg, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "start":
			if storedSeen[arg] {
				t.Errorf("memo-runs line %d: argument %d ran again (in %s) after its result was stored", i+1, arg, f[2])
			}
			starts[arg] = append(starts[arg], start{f[2], i})
		case "stored":
			storedSeen[arg] = true
			lastStored[f[1]+" "+f[2]] = i
		}
	}
	for arg, ss := range starts {
		completed := 0
		for _, s := range ss {
			if j, ok := lastStored[fmt.Sprintf("%d %s", arg, s.id)]; ok && j > s.idx {
				completed++
			}
		}
		if completed > 1 {
			t.Errorf("argument %d: %d runs completed, want at most one", arg, completed)
		}
	}
}
