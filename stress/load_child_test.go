//go:build linux

package stress

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/deferred"
	"github.com/bucketcache/bucketcache/internal/selfcheck"
)

// loadConfig is what every TestLoad child is told.
type loadConfig struct {
	Procs, Goroutines int
	Owned             int   // keys each writer goroutine owns
	Shared            int   // keys every goroutine writes
	Exp               int   // keys written with short lifetimes
	MemoArgs          int   // memoized arguments per epoch
	EpochNs           int64 // every epoch brings MemoArgs fresh arguments...
	T0                int64 // ...counted from this monotonic time
	Shards            int
}

func ownKey(p, g, i int) string  { return fmt.Sprintf("own/%d/%d/%d", p, g, i) }
func writerName(p, g int) string { return fmt.Sprintf("p%dg%d", p, g) }
func sharedKey(i int) string     { return fmt.Sprintf("shared/%d", i) }
func expKey(i int) string        { return fmt.Sprintf("exp/%d", i) }
func memoKey(arg int) string     { return fmt.Sprintf("memo/%d", arg) }

// memoValue is what the memoized function returns for arg.
func memoValue(arg int) Value {
	return selfcheck.New(memoKey(arg), "memo", uint64(arg)+1, 64+arg%200)
}

// ownState is an owned key's state as its owner knows it.
type ownState struct {
	Seq     uint64 // the owner's last operation on the key
	Present bool   // whether that left a value (of write Seq)
}

// loadReport is what a TestLoad child reports when it ends.
type loadReport struct {
	Ops       map[string]int
	Own       map[string]ownState
	MemoArgs  []int
	MemoStats bucket.Stats
	Prune     bucket.PruneInfo
	Failures  int
}

// runLoadChild is one TestLoad process: Goroutines workers until stopped.
func runLoadChild(t *testing.T, c *childCtx) {
	var cfg loadConfig
	c.decode(t, &cfg)
	p, err := strconv.Atoi(c.id)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(c.dir, "bucket")
	b, err := bucket.Open[string, Value](dir, bucket.Options{Shards: cfg.Shards})
	if err != nil {
		t.Fatal(err)
	}
	mb, err := bucket.Open[int, Value](dir, bucket.Options{Shards: cfg.Shards})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := os.OpenFile(filepath.Join(c.dir, "memo-runs"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer runs.Close()
	memo := bucket.Memoize(mb, "stress", func(_ context.Context, arg int) (Value, error) {
		if err := appendLine(runs, "%d %s", arg, c.id); err != nil {
			return Value{}, err
		}
		time.Sleep(2 * time.Millisecond) // the work, long enough for callers to pile up
		return memoValue(arg), nil
	})
	errs := &errorBudget{t: t}
	var stopping atomic.Bool
	workers := make([]*worker, cfg.Goroutines)
	for g := range workers {
		f, err := os.Create(filepath.Join(c.dir, fmt.Sprintf("hist-%d-%d.log", p, g)))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		workers[g] = &worker{
			cfg: &cfg, b: b, d: deferred.New(b), memo: memo, errs: errs,
			p: p, g: g, name: writerName(p, g),
			rng:   c.rng(uint64(g)),
			own:   make([]ownState, cfg.Owned),
			seen:  make(map[string]uint64),
			ops:   make(map[string]int),
			margs: make(map[int]bool),
			hist:  bufio.NewWriterSize(f, 1<<16),
		}
	}
	ready()
	<-c.start
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stopping.Load() && errs.count() < 30 {
				w.step()
			}
		}()
	}
	<-c.stop
	stopping.Store(true)
	wg.Wait()

	rep := loadReport{Ops: map[string]int{}, Own: map[string]ownState{}, MemoStats: mb.Stats(), Failures: errs.count()}
	margs := map[int]bool{}
	for _, w := range workers {
		if err := w.hist.Flush(); err != nil {
			t.Fatal(err)
		}
		for k, n := range w.ops {
			rep.Ops[k] += n
		}
		for i, st := range w.own {
			rep.Own[ownKey(p, w.g, i)] = st
		}
		for a := range w.margs {
			margs[a] = true
		}
		rep.Prune.Files += w.prune.Files
		rep.Prune.Expired += w.prune.Expired
		rep.Prune.Temp += w.prune.Temp
		rep.Prune.Corrupt += w.prune.Corrupt
	}
	for a := range margs {
		rep.MemoArgs = append(rep.MemoArgs, a)
	}
	slices.Sort(rep.MemoArgs)
	data, _ := json.Marshal(rep)
	if err := os.WriteFile(filepath.Join(c.dir, fmt.Sprintf("report-%d.json", p)), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Error(err)
	}
	mb.Close()
}

// worker is one goroutine of a TestLoad child. It owns Owned keys, which only
// it writes, so it knows their state exactly; it reads the keys other
// workers own, expecting their sequence numbers never to go back; and it
// reads and writes the shared keys, logging every operation with its
// interval for the history check.
type worker struct {
	cfg   *loadConfig
	b     *vbucket
	d     *deferred.Bucket[string, Value]
	memo  func(context.Context, int) (Value, error)
	errs  *errorBudget
	p, g  int
	name  string
	rng   *rand.Rand
	own   []ownState
	seen  map[string]uint64 // the highest sequence number read of each key another worker owns
	seq   uint64            // of this worker's writes to shared keys
	ops   map[string]int
	margs map[int]bool
	prune bucket.PruneInfo
	hist  *bufio.Writer
}

func (w *worker) fail(format string, args ...any) {
	w.errs.fail("%s: "+format, append([]any{w.name}, args...)...)
}

func (w *worker) pad() int {
	switch x := w.rng.IntN(100); {
	case x == 0:
		return 64 << 10
	case x < 10:
		return 4 << 10
	}
	return w.rng.IntN(256)
}

func (w *worker) step() {
	switch x := w.rng.IntN(1000); {
	case x < 170:
		w.getShared()
	case x < 220:
		w.containsShared()
	case x < 340:
		w.setShared()
	case x < 380:
		w.deleteShared()
	case x < 500:
		w.getForeign()
	case x < 580:
		w.getOwn(false)
	case x < 610:
		w.containsOwn()
	case x < 710:
		w.setOwn()
	case x < 740:
		w.deleteOwn()
	case x < 800:
		w.deferredBatch()
	case x < 880:
		w.callMemo()
	case x < 920:
		w.setExp()
	case x < 960:
		w.getExp()
	case x < 990:
		w.getOwn(true)
	default:
		w.runPrune()
	}
}

func (w *worker) log(key string, o hop) { writeHop(w.hist, key, o) }

func (w *worker) getShared() {
	w.ops["get"]++
	k := sharedKey(w.rng.IntN(w.cfg.Shared))
	t0 := mono()
	v, err := w.b.Get(k)
	t1 := mono()
	switch {
	case err == nil:
		if e := checkValue(k, v, "", 0); e != nil {
			w.fail("Get(%q): %v", k, e)
			return
		}
		w.log(k, hop{kind: 'R', writer: v.Writer, seq: v.Seq, start: t0, end: t1})
	case isNotFound(err):
		w.log(k, hop{kind: 'R', absent: true, start: t0, end: t1})
	default:
		w.fail("Get(%q): %v", k, err)
	}
}

func (w *worker) containsShared() {
	w.ops["contains"]++
	k := sharedKey(w.rng.IntN(w.cfg.Shared))
	t0 := mono()
	ok, err := w.b.Contains(k)
	t1 := mono()
	switch {
	case err != nil:
		w.fail("Contains(%q): %v", k, err)
	case ok:
		w.log(k, hop{kind: 'P', start: t0, end: t1})
	default:
		w.log(k, hop{kind: 'R', absent: true, start: t0, end: t1})
	}
}

func (w *worker) setShared() {
	w.ops["set"]++
	k := sharedKey(w.rng.IntN(w.cfg.Shared))
	w.seq++
	v := selfcheck.New(k, w.name, w.seq, w.pad())
	t0 := mono()
	err := w.b.Set(k, v)
	t1 := mono()
	if err != nil {
		w.fail("Set(%q): %v", k, err)
		return
	}
	w.log(k, hop{kind: 'W', writer: w.name, seq: w.seq, start: t0, end: t1})
}

func (w *worker) deleteShared() {
	w.ops["delete"]++
	k := sharedKey(w.rng.IntN(w.cfg.Shared))
	t0 := mono()
	err := w.b.Delete(k)
	t1 := mono()
	if err != nil && !isNotFound(err) {
		w.fail("Delete(%q): %v", k, err)
		return
	}
	// A Delete that found nothing changed nothing either way.
	w.log(k, hop{kind: 'D', start: t0, end: t1})
}

func (w *worker) getForeign() {
	w.ops["get"]++
	p, g := w.rng.IntN(w.cfg.Procs), w.rng.IntN(w.cfg.Goroutines)
	k := ownKey(p, g, w.rng.IntN(w.cfg.Owned))
	v, err := w.b.Get(k)
	switch {
	case err == nil:
		if e := checkValue(k, v, writerName(p, g), 0); e != nil {
			w.fail("Get(%q): %v", k, e)
		} else if v.Seq < w.seen[k] {
			w.fail("Get(%q): write %d after write %d was read: went back in time", k, v.Seq, w.seen[k])
		} else {
			w.seen[k] = v.Seq
		}
	case !isNotFound(err):
		w.fail("Get(%q): %v", k, err)
	}
}

// expectOwn checks that get (a Get of some Bucket) returns exactly st for
// the owned key k.
func (w *worker) expectOwn(what string, get func(string) (Value, error), k string, st ownState) {
	v, err := get(k)
	switch {
	case st.Present && err != nil:
		w.fail("%s(%q): %v, want write %d (lost write)", what, k, err, st.Seq)
	case st.Present:
		if e := checkValue(k, v, w.name, st.Seq); e != nil {
			w.fail("%s(%q): %v", what, k, e)
		}
	case err == nil:
		w.fail("%s(%q): found write %d of %s, want none (after delete %d)", what, k, v.Seq, v.Writer, st.Seq)
	case !isNotFound(err):
		w.fail("%s(%q): %v", what, k, err)
	}
}

func (w *worker) getOwn(unload bool) {
	w.ops["get"]++
	i := w.rng.IntN(w.cfg.Owned)
	k := ownKey(w.p, w.g, i)
	if unload {
		w.ops["unload"]++
		w.b.Unload(k)
	}
	w.expectOwn("Get", w.b.Get, k, w.own[i])
}

func (w *worker) containsOwn() {
	w.ops["contains"]++
	i := w.rng.IntN(w.cfg.Owned)
	k := ownKey(w.p, w.g, i)
	ok, err := w.b.Contains(k)
	if err != nil || ok != w.own[i].Present {
		w.fail("Contains(%q) = %v, %v; want %v", k, ok, err, w.own[i].Present)
	}
}

func (w *worker) setOwn() {
	w.ops["set"]++
	i := w.rng.IntN(w.cfg.Owned)
	k := ownKey(w.p, w.g, i)
	seq := w.own[i].Seq + 1
	if err := w.b.Set(k, selfcheck.New(k, w.name, seq, w.pad())); err != nil {
		w.fail("Set(%q): %v", k, err)
		return
	}
	w.own[i] = ownState{Seq: seq, Present: true}
}

func (w *worker) deleteOwn() {
	w.ops["delete"]++
	i := w.rng.IntN(w.cfg.Owned)
	k := ownKey(w.p, w.g, i)
	err := w.b.Delete(k)
	switch {
	case w.own[i].Present && err != nil:
		w.fail("Delete(%q) of write %d: %v", k, w.own[i].Seq, err)
	case !w.own[i].Present && !isNotFound(err):
		w.fail("Delete(%q) of a deleted key: %v, want ErrNotFound", k, err)
	}
	w.own[i] = ownState{Seq: w.own[i].Seq + 1}
}

// deferredBatch makes a few Sets and Deletes through the worker's deferred
// Bucket, checks that they are visible there and not in the Bucket before
// Sync, and syncs.
func (w *worker) deferredBatch() {
	w.ops["sync"]++
	planned := map[int]ownState{}
	type sharedOp struct {
		key string
		hop hop
	}
	var shared []sharedOp
	used := map[int]bool{}
	for n := 1 + w.rng.IntN(6); n > 0; n-- {
		if w.rng.IntN(10) < 7 {
			i := w.rng.IntN(w.cfg.Owned)
			k := ownKey(w.p, w.g, i)
			cur, ok := planned[i]
			if !ok {
				cur = w.own[i]
			}
			if w.rng.IntN(5) == 0 {
				w.ops["deferred-delete"]++
				err := w.d.Delete(k)
				if cur.Present && err != nil || !cur.Present && !isNotFound(err) {
					w.fail("deferred Delete(%q) with present=%v: %v", k, cur.Present, err)
				}
				planned[i] = ownState{Seq: cur.Seq + 1}
			} else {
				w.ops["deferred-set"]++
				seq := cur.Seq + 1
				if err := w.d.Set(k, selfcheck.New(k, w.name, seq, w.pad())); err != nil {
					w.fail("deferred Set(%q): %v", k, err)
				}
				planned[i] = ownState{Seq: seq, Present: true}
			}
			w.expectOwn("deferred Get", w.d.Get, k, planned[i])
			w.expectOwn("Get before Sync", w.b.Get, k, w.own[i])
			continue
		}
		si := w.rng.IntN(w.cfg.Shared)
		if used[si] {
			continue
		}
		used[si] = true
		k := sharedKey(si)
		if w.rng.IntN(4) == 0 {
			w.ops["deferred-delete"]++
			t0 := mono()
			err := w.d.Delete(k)
			t1 := mono()
			switch {
			case err == nil:
				shared = append(shared, sharedOp{k, hop{kind: 'D'}})
			case isNotFound(err): // it read the disk and found nothing
				w.log(k, hop{kind: 'R', absent: true, start: t0, end: t1})
			default:
				w.fail("deferred Delete(%q): %v", k, err)
			}
		} else {
			w.ops["deferred-set"]++
			w.seq++
			if err := w.d.Set(k, selfcheck.New(k, w.name, w.seq, w.pad())); err != nil {
				w.fail("deferred Set(%q): %v", k, err)
			}
			shared = append(shared, sharedOp{k, hop{kind: 'W', writer: w.name, seq: w.seq}})
		}
	}
	t0 := mono()
	err := w.d.Sync()
	t1 := mono()
	if err != nil {
		w.fail("Sync: %v", err)
		w.d.Discard()
		return
	}
	if n := w.d.Pending(); n != 0 {
		w.fail("%d writes still pending after a successful Sync", n)
	}
	for i, st := range planned {
		w.own[i] = st
	}
	for _, s := range shared {
		s.hop.start, s.hop.end = t0, t1
		w.log(s.key, s.hop)
	}
}

func (w *worker) callMemo() {
	w.ops["memo"]++
	epoch := (mono() - w.cfg.T0) / w.cfg.EpochNs
	arg := int(epoch)*w.cfg.MemoArgs + w.rng.IntN(w.cfg.MemoArgs)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v, err := w.memo(ctx, arg)
	if err != nil {
		w.fail("memo(%d): %v", arg, err)
		return
	}
	if e := checkValue(memoKey(arg), v, "memo", uint64(arg)+1); e != nil {
		w.fail("memo(%d): %v", arg, e)
	}
	w.margs[arg] = true
}

func (w *worker) setExp() {
	w.ops["set"]++
	k := expKey(w.rng.IntN(w.cfg.Exp))
	w.seq++
	life := time.Duration(1+w.rng.IntN(50)) * time.Millisecond
	if err := w.b.SetWithLifetime(k, selfcheck.New(k, w.name, w.seq, w.pad()), life); err != nil {
		w.fail("SetWithLifetime(%q): %v", k, err)
	}
}

func (w *worker) getExp() {
	w.ops["get"]++
	k := expKey(w.rng.IntN(w.cfg.Exp))
	v, err := w.b.Get(k)
	switch {
	case err == nil:
		if e := checkValue(k, v, "", 0); e != nil {
			w.fail("Get(%q): %v", k, e)
		}
	case !isNotFound(err):
		w.fail("Get(%q): %v", k, err)
	}
}

func (w *worker) runPrune() {
	w.ops["prune"]++
	info, err := w.b.Prune()
	if err != nil {
		w.fail("Prune: %v", err)
	}
	w.prune.Files += info.Files
	w.prune.Expired += info.Expired
	w.prune.Temp += info.Temp
	w.prune.Corrupt += info.Corrupt
}
