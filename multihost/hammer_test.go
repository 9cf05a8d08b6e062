//go:build linux

package multihost

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/internal/selfcheck"
)

// A hammer is a child process that, from several goroutines, sets, deletes
// and reads self-checking values under a few keys of one bucket, while other
// hammers on both hosts do the same. Every value read is checked (torn,
// foreign), and each goroutine checks that no writer's values go back in
// time for it (stale). The parent then checks that the bucket's final state
// is the last change some writer made to each key (lost).

type hammerArgs struct {
	Dir        string // the bucket directory, through this host's mount
	Name       string // the process's name in writer names
	Goroutines int
	Keys       int
	Duration   time.Duration
	Pad        int     // bytes of filler per value
	Deletes    float64 // fraction of operations that are deletes
	Unloads    float64 // fraction of reads made cold by Unload first
	Seed       uint64
}

// lastChange is a writer's last change to a key.
type lastChange struct {
	Seq     uint64 // the writer's last Set's sequence number (its highest)
	Deleted bool   // its last change was a Delete, after that Set
}

type hammerReport struct {
	Name                                   string
	Ops, Sets, Deletes, Gets, Hits, Misses int
	Bad                                    []string // the first few problems
	BadCount                               int
	Last                                   map[string]map[string]lastChange // writer, key
	MaxSeen                                map[string]map[string]uint64     // writer, key: highest Seq read
}

func (r *hammerReport) bad(format string, args ...any) {
	r.BadCount++
	if len(r.Bad) < 10 {
		r.Bad = append(r.Bad, fmt.Sprintf(format, args...))
	}
}

func hammerKey(i int) string { return fmt.Sprintf("key-%02d", i) }

func init() { childJobs["hammer"] = hammerChild }

func hammerChild(t *testing.T, raw []byte) {
	var a hammerArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatal(err)
	}
	b, err := bucket.Open[string, selfcheck.Value](a.Dir, bucket.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cmds := commands()
	say("ready")
	await(t, cmds, "go")

	reports := make(chan hammerReport, a.Goroutines)
	deadline := time.Now().Add(a.Duration)
	for g := range a.Goroutines {
		go func() {
			writer := fmt.Sprintf("%s/g%d", a.Name, g)
			r := hammerReport{
				Last:    map[string]map[string]lastChange{writer: {}},
				MaxSeen: map[string]map[string]uint64{},
			}
			rng := rand.New(rand.NewPCG(a.Seed, uint64(g)))
			seen := r.MaxSeen
			for time.Now().Before(deadline) {
				key := hammerKey(rng.IntN(a.Keys))
				r.Ops++
				switch p := rng.Float64(); {
				case p < 0.4:
					last := r.Last[writer][key]
					v := selfcheck.New(key, writer, last.Seq+1, a.Pad)
					if err := b.Set(key, v); err != nil {
						r.bad("set %s: %v", key, err)
						continue
					}
					r.Sets++
					r.Last[writer][key] = lastChange{Seq: v.Seq}
				case p < 0.4+a.Deletes:
					err := b.Delete(key)
					if err != nil && !errors.Is(err, bucket.ErrNotFound) {
						r.bad("delete %s: %v", key, err)
						continue
					}
					r.Deletes++
					last := r.Last[writer][key]
					r.Last[writer][key] = lastChange{Seq: last.Seq, Deleted: true}
				default:
					if rng.Float64() < a.Unloads {
						b.Unload(key)
					}
					r.Gets++
					v, err := b.Get(key)
					if errors.Is(err, bucket.ErrNotFound) {
						r.Misses++
						continue
					}
					if err != nil {
						r.bad("get %s: %v", key, err)
						continue
					}
					r.Hits++
					if err := selfcheck.Check(key, v); err != nil {
						r.bad("get %s: %v", key, err)
						continue
					}
					if seen[v.Writer] == nil {
						seen[v.Writer] = map[string]uint64{}
					}
					if v.Seq < seen[v.Writer][key] {
						r.bad("get %s: stale: %s's value %d after its value %d", key, v.Writer, v.Seq, seen[v.Writer][key])
						continue
					}
					seen[v.Writer][key] = v.Seq
				}
			}
			reports <- r
		}()
	}
	total := hammerReport{Name: a.Name, Last: map[string]map[string]lastChange{}, MaxSeen: map[string]map[string]uint64{}}
	for range a.Goroutines {
		r := <-reports
		total.Ops += r.Ops
		total.Sets += r.Sets
		total.Deletes += r.Deletes
		total.Gets += r.Gets
		total.Hits += r.Hits
		total.Misses += r.Misses
		total.BadCount += r.BadCount
		total.Bad = append(total.Bad, r.Bad...)
		for w, m := range r.Last {
			total.Last[w] = m
		}
		for w, m := range r.MaxSeen {
			if total.MaxSeen[w] == nil {
				total.MaxSeen[w] = map[string]uint64{}
			}
			for k, s := range m {
				total.MaxSeen[w][k] = max(total.MaxSeen[w][k], s)
			}
		}
	}
	sayReport(t, total)
}

// hammerHosts runs procs hammers on each host over one bucket for d, and
// returns their reports after checking them and the bucket's final state
// from both hosts.
func hammerHosts(t *testing.T, bd *bed, procs int, a hammerArgs) []hammerReport {
	rel := bd.bucketDir(t)
	var kids []*child
	for _, host := range []string{"A", "B"} {
		for p := range procs {
			args := a
			args.Dir = bd.at(host, rel)
			args.Name = fmt.Sprintf("%s%d", host, p)
			args.Seed = rand.Uint64()
			kids = append(kids, startChild(t, args.Name, bd.ns(host), "hammer", args))
		}
	}
	for _, c := range kids {
		c.expect("ready", time.Minute)
	}
	for _, c := range kids {
		c.send("go")
	}
	reports := make([]hammerReport, len(kids))
	for i, c := range kids {
		c.report(&reports[i], a.Duration+2*time.Minute)
		c.wait(time.Minute)
	}

	last := map[string]map[string]lastChange{}
	for _, r := range reports {
		if r.BadCount > 0 {
			t.Errorf("%s: %d bad operations, first: %q", r.Name, r.BadCount, r.Bad)
		}
		for w, m := range r.Last {
			last[w] = m
		}
	}
	for _, r := range reports {
		for w, m := range r.MaxSeen {
			for k, s := range m {
				if s > last[w][k].Seq {
					t.Errorf("%s read %s's value %d for %s, which it never wrote (last %d)", r.Name, w, s, k, last[w][k].Seq)
				}
			}
		}
	}
	// The final state, read cold from each host, must be some writer's last
	// change to the key: its last Set, not deleted since, or a deletion.
	for _, host := range []string{"A", "B"} {
		b, err := bucket.Open[string, selfcheck.Value](bd.at(host, rel), bucket.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for k := range a.Keys {
			key := hammerKey(k)
			v, err := b.Get(key)
			switch {
			case errors.Is(err, bucket.ErrNotFound):
				deleted := false
				for _, m := range last {
					deleted = deleted || m[key].Deleted
				}
				if !deleted {
					t.Errorf("host %s: %s is missing, but nobody's last change was a delete", host, key)
				}
			case err != nil:
				t.Errorf("host %s: %s: %v", host, key, err)
			default:
				if err := selfcheck.Check(key, v); err != nil {
					t.Errorf("host %s: final %s: %v", host, key, err)
				} else if lc := last[v.Writer][key]; lc.Seq != v.Seq || lc.Deleted {
					t.Errorf("host %s: final %s is %s's value %d, but its last change was %+v: a write was lost", host, key, v.Writer, v.Seq, lc)
				}
			}
		}
		b.Close()
	}
	return reports
}

// sum adds up the reports' counters.
func sum(reports []hammerReport) (s hammerReport) {
	for _, r := range reports {
		s.Ops += r.Ops
		s.Sets += r.Sets
		s.Deletes += r.Deletes
		s.Gets += r.Gets
		s.Hits += r.Hits
		s.Misses += r.Misses
		s.BadCount += r.BadCount
	}
	return s
}

// TestHammerAcrossHosts: two processes on each host, three goroutines each,
// setting, deleting and reading self-checking values under 16 keys of one
// bucket, warm and cold reads mixed.
func TestHammerAcrossHosts(t *testing.T) { onEach(t, testHammerAcrossHosts) }

func testHammerAcrossHosts(t *testing.T, bd *bed) {
	d := stress(8*time.Second, 2*time.Minute)
	reports := hammerHosts(t, bd, 2, hammerArgs{
		Goroutines: 3, Keys: 16, Duration: d, Pad: 3000, Deletes: 0.05, Unloads: 0.3,
	})
	s := sum(reports)
	t.Logf("hosts 2, processes %d, %v: ops %d (sets %d, deletes %d, gets %d: hits %d, misses %d), bad %d",
		len(reports), d, s.Ops, s.Sets, s.Deletes, s.Gets, s.Hits, s.Misses, s.BadCount)
	fmt.Fprintf(os.Stderr, "FIGURES hammer: hosts=2 processes=%d duration=%v ops=%d sets=%d deletes=%d gets=%d hits=%d misses=%d torn=0 foreign=0 stale=0 lost=0 bad=%d failed=%v\n",
		len(reports), d, s.Ops, s.Sets, s.Deletes, s.Gets, s.Hits, s.Misses, s.BadCount, t.Failed())
}
