//go:build linux

package multihost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/deferred"
	"github.com/bucketcache/bucketcache/internal/selfcheck"
)

// Maintainers are child processes on both hosts that write (in deferred
// batches, and entries that expire at once), read, and run Prune and
// trims, at the same time; in chaos mode they also Clear the bucket and
// keep it over its entry limit, so that eviction runs on both hosts.

type maintArgs struct {
	Dir      string
	Name     string
	Duration time.Duration
	Chaos    bool // Clear and eviction too
	Pins     int  // keys "pin-N" written before, never expiring, that must survive (not in chaos)
	Seed     uint64
}

type maintReport struct {
	Name                          string
	Batches, Sets, Expiring, Gets int
	Pruned, Evicted, Clears       int
	Live                          []string // keys this process wrote in batches, never expiring (not in chaos)
	Bad                           []string
	BadCount                      int
}

func init() { childJobs["maint"] = maintChild }

// maintShards is the maintained buckets' shard count: few, so that a
// Prune's sweep is quick and shard locks are contended.
const maintShards = 16

func maintOptions(chaos bool) bucket.Options {
	if !chaos {
		return bucket.Options{Shards: maintShards}
	}
	return bucket.Options{Shards: maintShards, MaxEntries: 60, EvictionGrace: 20 * time.Millisecond, TrimInterval: 50 * time.Millisecond}
}

func maintChild(t *testing.T, raw []byte) {
	var a maintArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatal(err)
	}
	b, err := bucket.Open[string, selfcheck.Value](a.Dir, maintOptions(a.Chaos))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cmds := commands()
	say("ready")
	await(t, cmds, "go")

	var mu sync.Mutex
	r := maintReport{Name: a.Name}
	bad := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		r.BadCount++
		if len(r.Bad) < 10 {
			r.Bad = append(r.Bad, fmt.Sprintf(format, args...))
		}
	}
	check := func(key string, v selfcheck.Value, err error, mustExist bool) {
		switch {
		case errors.Is(err, bucket.ErrNotFound):
			if mustExist {
				bad("%s is missing", key)
			}
		case err != nil:
			bad("get %s: %v", key, err)
		default:
			if err := selfcheck.Check(key, v); err != nil {
				bad("get %s: %v", key, err)
			}
		}
	}
	deadline := time.Now().Add(a.Duration)
	var wg sync.WaitGroup
	run := func(f func(rng *rand.Rand)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(a.Seed, rand.Uint64()))
			for time.Now().Before(deadline) {
				f(rng)
			}
		}()
	}
	var live []string // guarded by mu
	seq := uint64(0)  // guarded by mu
	// Deferred batches: in chaos mode over a small set of keys shared with
	// the other processes, otherwise keys of this process's own.
	run(func(rng *rand.Rand) {
		mu.Lock()
		seq++
		n := seq
		mu.Unlock()
		var keys []string
		err := deferred.Write(b, func(d *deferred.Bucket[string, selfcheck.Value]) error {
			for i := range 8 {
				key := fmt.Sprintf("live-%s-%d-%d", a.Name, n, i)
				if a.Chaos {
					key = fmt.Sprint("shared-", rng.IntN(400))
				}
				if err := d.Set(key, selfcheck.New(key, a.Name, n, 500)); err != nil {
					return err
				}
				keys = append(keys, key)
			}
			return nil
		})
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			r.BadCount++
			r.Bad = append(r.Bad, fmt.Sprintf("deferred batch %d: %v", n, err))
			return
		}
		r.Batches++
		r.Sets += len(keys)
		if !a.Chaos {
			live = append(live, keys...)
		}
	})
	// Entries that expire at once: work for Prune.
	run(func(rng *rand.Rand) {
		key := fmt.Sprint("brief-", rng.IntN(200))
		if err := b.SetWithLifetime(key, selfcheck.New(key, a.Name, 1, 100), time.Millisecond); err != nil {
			bad("set %s: %v", key, err)
			return
		}
		mu.Lock()
		r.Expiring++
		mu.Unlock()
	})
	// Readers: pins and this process's live keys must be there (unless
	// chaos), and everything read must be intact.
	run(func(rng *rand.Rand) {
		var key string
		mustExist := !a.Chaos
		mu.Lock()
		switch {
		case a.Chaos:
			key = fmt.Sprint("shared-", rng.IntN(400))
		case a.Pins > 0 && (len(live) == 0 || rng.IntN(2) == 0):
			key = fmt.Sprint("pin-", rng.IntN(a.Pins))
		case len(live) > 0:
			key = live[rng.IntN(len(live))]
		default:
			mustExist = false
			key = "nothing"
		}
		r.Gets++
		mu.Unlock()
		v, err := b.Get(key)
		check(key, v, err, mustExist)
	})
	// Maintenance.
	iteration := 0
	run(func(rng *rand.Rand) {
		iteration++
		info, err := b.Prune()
		if err != nil {
			bad("prune: %v", err)
		}
		n := 0
		if a.Chaos {
			ti, err := b.Trim(context.Background())
			if err != nil {
				bad("trim: %v", err)
			}
			n = ti.Evicted
			if iteration%3 == 1 {
				if err := b.Clear(); err != nil {
					bad("clear: %v", err)
				}
				mu.Lock()
				r.Clears++
				mu.Unlock()
			}
		}
		mu.Lock()
		r.Pruned += info.Files
		r.Evicted += n
		mu.Unlock()
		time.Sleep(20 * time.Millisecond) // maintenance is occasional
	})
	wg.Wait()
	r.Evicted += int(b.Stats().Evictions) // background trims, and Trim's own
	mu.Lock()
	r.Live = live
	mu.Unlock()
	sayReport(t, r)
}

// maintAcrossHosts runs two maintainers on each host over one bucket.
func maintAcrossHosts(t *testing.T, bd *bed, chaos bool) []maintReport {
	rel := bd.bucketDir(t)
	const pins = 20
	if !chaos {
		b, err := bucket.Open[string, selfcheck.Value](bd.at("A", rel), maintOptions(false))
		if err != nil {
			t.Fatal(err)
		}
		for i := range pins {
			key := fmt.Sprint("pin-", i)
			if err := b.Set(key, selfcheck.New(key, "parent", 1, 300)); err != nil {
				t.Fatal(err)
			}
		}
		b.Close()
	}
	d := stress(6*time.Second, time.Minute)
	var kids []*child
	for _, host := range []string{"A", "B"} {
		for p := range 2 {
			name := fmt.Sprintf("%s%d", host, p)
			args := maintArgs{Dir: bd.at(host, rel), Name: name, Duration: d, Chaos: chaos, Seed: rand.Uint64()}
			if !chaos {
				args.Pins = pins
			}
			kids = append(kids, startChild(t, name, bd.ns(host), "maint", args))
		}
	}
	for _, c := range kids {
		c.expect("ready", time.Minute)
	}
	for _, c := range kids {
		c.send("go")
	}
	reports := make([]maintReport, len(kids))
	for i, c := range kids {
		c.report(&reports[i], d+3*time.Minute)
		c.wait(time.Minute)
		if reports[i].BadCount > 0 {
			t.Errorf("%s: %d bad operations, first: %q", reports[i].Name, reports[i].BadCount, reports[i].Bad)
		}
	}
	if chaos {
		return reports
	}
	// Prune from four processes on two hosts removed expired entries and
	// no live one: every pin and every batch-written key is there, intact,
	// read cold from both hosts.
	for _, host := range []string{"A", "B"} {
		b, err := bucket.Open[string, selfcheck.Value](bd.at(host, rel), bucket.Options{MemoryLimit: -1})
		if err != nil {
			t.Fatal(err)
		}
		keys := []string{}
		for i := range pins {
			keys = append(keys, fmt.Sprint("pin-", i))
		}
		for _, r := range reports {
			keys = append(keys, r.Live...)
		}
		var (
			mu      sync.Mutex
			missing int
			wg      sync.WaitGroup
			next    = make(chan string)
		)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for key := range next {
					v, err := b.Get(key)
					if err == nil {
						err = selfcheck.Check(key, v)
					}
					if err != nil {
						mu.Lock()
						if missing++; missing <= 3 {
							t.Errorf("host %s: %s: %v", host, key, err)
						}
						mu.Unlock()
					}
				}
			}()
		}
		for _, key := range keys {
			next <- key
		}
		close(next)
		wg.Wait()
		if missing > 0 {
			t.Errorf("host %s: %d of %d live entries missing or damaged", host, missing, len(keys))
		}
		b.Close()
	}
	return reports
}

func maintFigures(t *testing.T, what string, reports []maintReport) {
	var s maintReport
	for _, r := range reports {
		s.Batches += r.Batches
		s.Sets += r.Sets
		s.Expiring += r.Expiring
		s.Gets += r.Gets
		s.Pruned += r.Pruned
		s.Evicted += r.Evicted
		s.Clears += r.Clears
		s.BadCount += r.BadCount
	}
	t.Logf("%s: processes 4 on 2 hosts: deferred batches %d (%d entries), expiring sets %d, gets %d, pruned %d, evicted %d, clears %d, bad %d",
		what, s.Batches, s.Sets, s.Expiring, s.Gets, s.Pruned, s.Evicted, s.Clears, s.BadCount)
	fmt.Fprintf(os.Stderr, "FIGURES %s: processes=4 hosts=2 batches=%d batch_entries=%d expiring=%d gets=%d pruned=%d evicted=%d clears=%d bad=%d failed=%v\n",
		what, s.Batches, s.Sets, s.Expiring, s.Gets, s.Pruned, s.Evicted, s.Clears, s.BadCount, t.Failed())
}

// TestPruneAndSyncAcrossHosts: deferred Syncs, expiring writes, reads and
// Prune from two processes on each host at once. Prune removes expired
// entries and never a live one.
func TestPruneAndSyncAcrossHosts(t *testing.T) { onEach(t, testPruneAndSyncAcrossHosts) }

func testPruneAndSyncAcrossHosts(t *testing.T, bd *bed) {
	reports := maintAcrossHosts(t, bd, false)
	maintFigures(t, "prune", reports)
	pruned := 0
	for _, r := range reports {
		pruned += r.Pruned
	}
	if pruned == 0 {
		t.Error("Prune removed nothing: the test exercised nothing")
	}
}

// TestClearAndEvictionAcrossHosts: the same with a bucket kept over its
// entry limit, so that trims evict from both hosts, and Clear now and then:
// no error, no damaged or foreign value.
func TestClearAndEvictionAcrossHosts(t *testing.T) { onEach(t, testClearAndEvictionAcrossHosts) }

func testClearAndEvictionAcrossHosts(t *testing.T, bd *bed) {
	reports := maintAcrossHosts(t, bd, true)
	maintFigures(t, "chaos", reports)
	evicted, clears := 0, 0
	for _, r := range reports {
		evicted += r.Evicted
		clears += r.Clears
	}
	if evicted == 0 || clears == 0 {
		t.Errorf("evictions %d, clears %d: the test did not exercise both", evicted, clears)
	}
}
