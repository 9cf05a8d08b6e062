package deferred

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sync/errgroup"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/internal/store"
)

// maxJoined bounds the number of individual failures Sync's error lists.
const maxJoined = 16

// parallelism is how many shards a Sync writes at once: enough to keep the
// disk and the CPUs busy, few enough not to swamp either.
func parallelism() int {
	return min(max(2*runtime.GOMAXPROCS(0), 4), 16)
}

// testHookSyncing, when set by a test, runs in Sync between taking the
// snapshot of pending writes and writing them.
var testHookSyncing func()

// batch is one shard's share of a Sync.
type batch struct {
	shard int
	keys  []string
	ops   []*op
	del   []bool // remove the entry: a Delete, or a Set whose expiry has passed
	errs  []error
}

// Sync writes every pending entry. It groups them by shard, takes each
// shard's lock once, writes all of that shard's entries (each atomically, as
// bucket.Bucket.Set does) and works on several shards at once. A pending Set
// whose expiry has already passed removes the entry instead of writing it.
//
// When some writes fail, Sync still makes all the others, and returns an
// error that joins the failures (each naming its key and, where there is one,
// the path; the first few are listed, and a count says how many failed). The
// entries that failed stay pending, so a later Sync can retry them; those
// written leave pending, unless they were changed again during the Sync.
// Syncs of one Bucket run one at a time.
func (d *Bucket[K, V]) Sync() error { return d.SyncContext(context.Background()) }

// SyncContext is Sync, stopping when ctx ends: it starts no shard after
// that, and gives up waiting for a shard's lock. Every entry it did not write
// stays pending, whole, for a later Sync; every shard it wrote is written
// whole. It then returns an error that wraps ctx.Err() and says how many
// writes stay pending.
func (d *Bucket[K, V]) SyncContext(ctx context.Context) error {
	d.syncMu.Lock()
	defer d.syncMu.Unlock()
	batches, total := d.snapshot()
	if total == 0 {
		return nil
	}
	if testHookSyncing != nil {
		testHookSyncing()
	}
	st := d.e.Store
	limit := d.parallel
	if limit <= 0 {
		limit = parallelism()
	}
	var g errgroup.Group
	g.SetLimit(limit)
	for _, bt := range batches {
		g.Go(func() error {
			items := make([]store.Item, len(bt.ops))
			for j, o := range bt.ops {
				// Owned: a pending value was encoded for this Bucket and is never changed.
				items[j] = store.Item{Key: []byte(bt.keys[j]), Delete: bt.del[j], Owned: true}
				if !bt.del[j] {
					items[j].Record = o.rec
				}
			}
			bt.errs = st.WriteShardContext(ctx, bt.shard, items)
			return nil
		})
	}
	g.Wait()
	return d.settle(batches, total, ctx.Err())
}

// snapshot groups the pending ops by shard and marks their keys as being
// written.
func (d *Bucket[K, V]) snapshot() ([]*batch, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.pending) == 0 {
		return nil, 0
	}
	now := d.now()
	d.writing = make(map[string]struct{}, len(d.pending))
	byShard := make(map[int]*batch)
	var batches []*batch
	for k, o := range d.pending {
		bt := byShard[o.shard]
		if bt == nil {
			bt = &batch{shard: o.shard}
			byShard[o.shard] = bt
			batches = append(batches, bt)
		}
		bt.keys = append(bt.keys, k)
		bt.ops = append(bt.ops, o)
		bt.del = append(bt.del, o.del || o.rec.Expired(now))
		d.writing[k] = struct{}{}
	}
	return batches, len(d.pending)
}

// settle removes from pending the ops that were written and not replaced
// since, and reports the failures.
// When ctx ended (ctxErr), the writes it stopped are counted but not
// listed: the error wraps ctxErr instead.
func (d *Bucket[K, V]) settle(batches []*batch, total int, ctxErr error) error {
	var errs []error
	var written []*op // large raw values the Store let go of: to recycle
	failed := 0
	d.mu.Lock()
	for _, bt := range batches {
		for j, err := range bt.errs {
			k := bt.keys[j]
			if err == nil {
				o := bt.ops[j]
				if d.pending[k] == o {
					d.drop(k)
				}
				if !bt.del[j] && d.codec == store.RawCodec && !store.WorthKeeping(o.rec.Codec, len(o.rec.Value)) {
					written = append(written, o)
				}
				continue
			}
			failed++
			if ctxErr != nil && errors.Is(err, ctxErr) {
				continue
			}
			if len(errs) < maxJoined {
				errs = append(errs, fmt.Errorf("deferred: key %s: %w", keyText([]byte(k)), err))
			}
		}
	}
	d.writing = nil
	d.mu.Unlock()
	d.recycle(written)
	if failed == 0 {
		return nil
	}
	head := fmt.Errorf("deferred: %d of %d pending writes failed and stay pending", failed, total)
	if ctxErr != nil {
		head = fmt.Errorf("deferred: sync stopped: %d of %d pending writes stay pending: %w", failed, total, ctxErr)
	}
	return errors.Join(append([]error{head}, errs...)...)
}

// Write runs fn with a deferred view of b and syncs when fn returns nil,
// returning Sync's error. When fn returns an error (or panics, or calls
// runtime.Goexit) nothing pending is written, and the error (or panic) is
// passed on. The view must not be used after fn returns. When the Sync
// fails, the writes it could not make are dropped with the view, and the
// returned error names them: to retry instead, use New and Sync.
func Write[K, V any](b *bucket.Bucket[K, V], fn func(d *Bucket[K, V]) error) error {
	return WriteContext(context.Background(), b, fn)
}

// WriteContext is Write, syncing with SyncContext(ctx). When ctx ends during
// the Sync, the writes not yet made are dropped with the view, as for any
// failed Sync, and the error wraps ctx.Err(); fn's writes are never
// half-made: each entry is written whole or not at all.
func WriteContext[K, V any](ctx context.Context, b *bucket.Bucket[K, V], fn func(d *Bucket[K, V]) error) error {
	d := New(b)
	commit := false
	defer func() {
		if !commit {
			d.Discard()
		}
	}()
	if err := fn(d); err != nil {
		return err
	}
	commit = true
	return d.SyncContext(ctx)
}
