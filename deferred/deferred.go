package deferred

import (
	"bytes"
	"fmt"
	"sync"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/internal/core"
	"github.com/bucketcache/bucketcache/internal/store"
)

// opOverhead estimates the bytes a pending entry takes beyond its key and
// encoded value: the map slot, the op and its record.
const opOverhead = 200

// Bucket defers writes to disk until Sync. Reads see its own pending writes;
// every other reader sees them only after Sync. Create it with New or let
// Write create one. Its methods are safe for concurrent use.
type Bucket[K, V any] struct {
	b *bucket.Bucket[K, V]
	e *core.Engine[K, V] // b's engine

	syncMu sync.Mutex // held by Sync from start to end: Syncs run one at a time

	lifetime time.Duration    // the wrapped Bucket's
	clock    func() time.Time // the wrapped Bucket's
	codec    string           // the wrapped Bucket's codec name
	parallel int              // shards a Sync writes at once; 0: parallelism()

	// readers is held shared by a Get while it decodes a pending value,
	// and taken exclusively by Sync before it recycles the values it wrote.
	readers sync.RWMutex

	mu      sync.Mutex
	pending map[string]*op      // guarded by mu; by canonical key bytes
	bytes   int64               // guarded by mu; estimated memory of pending
	writing map[string]struct{} // guarded by mu; keys the running Sync is writing
}

// op is one pending change. An op never changes once made: a new Set or
// Delete of the key replaces the whole op, so Sync can tell, by comparing
// pointers, whether the op it wrote is still the latest.
type op struct {
	rec   store.Record // the encoded value; unused when del
	del   bool
	shard int
}

func (o *op) size(key string) int64 {
	return int64(len(key)+len(o.rec.Value)) + opOverhead
}

// New returns a deferred view of b. It shares b's directory, Lifetime,
// Codec, KeyMaker and clock, and starts with nothing pending.
func New[K, V any](b *bucket.Bucket[K, V]) *Bucket[K, V] {
	e := core.Of[K, V](b)
	return &Bucket[K, V]{
		b:        b,
		e:        e,
		lifetime: e.Lifetime,
		clock:    e.Now,
		codec:    e.Codec,
		pending:  make(map[string]*op),
	}
}

// Bucket is the wrapped bucket.Bucket.
func (d *Bucket[K, V]) Bucket() *bucket.Bucket[K, V] { return d.b }

// Get returns key's value: the pending one if there is one, or else the one
// on disk. It returns bucket.ErrNotFound when the key is absent, pending
// deletion, or expired (a pending entry expires Lifetime after its Set). The
// value is decoded afresh on every call, so it is the caller's own.
func (d *Bucket[K, V]) Get(key K) (V, error) {
	var zero V
	kb, err := d.e.KeyBytes(key)
	if err != nil {
		return zero, err
	}
	d.readers.RLock() // a value being decoded is not recycled
	o := d.lookup(kb)
	if o == nil {
		d.readers.RUnlock()
		rec, err := d.e.Store.Get(kb)
		if err != nil {
			return zero, err
		}
		return d.e.Decode(kb, rec)
	}
	defer d.readers.RUnlock()
	if o.del || !d.live(o.rec, d.now()) {
		return zero, bucket.ErrNotFound
	}
	return d.e.Decode(kb, o.rec)
}

// Contains reports whether Get would find key.
func (d *Bucket[K, V]) Contains(key K) (bool, error) {
	kb, err := d.e.KeyBytes(key)
	if err != nil {
		return false, err
	}
	o := d.lookup(kb)
	if o == nil {
		return d.e.Store.Contains(kb)
	}
	return !o.del && d.live(o.rec, d.now()), nil
}

// Set records value for key, to be written by the next Sync. The value is
// encoded now: when the codec refuses it, Set returns the error and nothing
// changes. The entry expires the wrapped Bucket's Lifetime after this call
// (never, when it is 0), whenever Sync runs.
func (d *Bucket[K, V]) Set(key K, value V) error {
	return d.set(key, value, d.lifetime)
}

// SetWithLifetime is Set with an expiry of its own, as
// bucket.Bucket.SetWithLifetime: the entry expires lifetime after this call
// (never, when lifetime is 0), and this Bucket returns it only while it is
// younger than the wrapped Bucket's Lifetime.
func (d *Bucket[K, V]) SetWithLifetime(key K, value V, lifetime time.Duration) error {
	if lifetime < 0 {
		return fmt.Errorf("deferred: negative lifetime %v", lifetime)
	}
	return d.set(key, value, lifetime)
}

func (d *Bucket[K, V]) set(key K, value V, lifetime time.Duration) error {
	kb, err := d.e.KeyBytes(key)
	if err != nil {
		return err
	}
	data, err := d.encode(value)
	if err != nil {
		return err
	}
	if cap(data) > len(data)+len(data)/8+64 && store.WorthKeeping(d.codec, len(data)) {
		// Some codecs return a buffer with much spare room; a pending entry
		// may stay a long time, so keep only what it needs.
		data = bytes.Clone(data)
	}
	now := d.now()
	o := &op{
		rec:   store.Record{Codec: d.codec, Value: data, WrittenAt: now},
		shard: d.e.Store.ShardOf(kb),
	}
	if lifetime > 0 {
		o.rec.ExpiresAt = now.Add(lifetime)
	}
	d.mu.Lock()
	d.put(string(kb), o)
	d.mu.Unlock()
	return nil
}

// Delete schedules the removal of key's entry. It returns bucket.ErrNotFound
// when Get would not have found the key. A pending value that was never
// written is simply dropped; one that is also on disk (or being written by a
// Sync) is replaced by a pending removal, which the next Sync carries out.
func (d *Bucket[K, V]) Delete(key K) error {
	kb, err := d.e.KeyBytes(key)
	if err != nil {
		return err
	}
	k := string(kb)
	for {
		d.mu.Lock()
		o := d.pending[k]
		if o != nil && (o.del || !d.live(o.rec, d.now())) {
			d.mu.Unlock()
			return bucket.ErrNotFound
		}
		if _, ok := d.writing[k]; ok {
			// A Sync is writing the key: it will be on disk, so remove it
			// after.
			d.put(k, &op{del: true, shard: d.e.Store.ShardOf(kb)})
			d.mu.Unlock()
			return nil
		}
		d.mu.Unlock()

		// Whether the disk holds the key decides between dropping a pending
		// value and scheduling a removal. Read it without holding mu, then
		// act only if nothing changed meanwhile.
		onDisk, err := d.e.Store.Contains(kb)
		if err != nil {
			return err
		}
		d.mu.Lock()
		if _, ok := d.writing[k]; d.pending[k] != o || ok {
			d.mu.Unlock()
			continue
		}
		switch {
		case onDisk:
			d.put(k, &op{del: true, shard: d.e.Store.ShardOf(kb)})
		case o != nil:
			d.drop(k)
		default:
			d.mu.Unlock()
			return bucket.ErrNotFound
		}
		d.mu.Unlock()
		return nil
	}
}

// Unload syncs every pending write, then drops key from the wrapped Bucket's
// memory (the file stays), as bucket.Bucket.Unload does. Unload has no error
// to return: when the Sync fails, the entries it could not write stay
// pending (Get still sees them) and the next Sync retries them and reports
// any failure.
func (d *Bucket[K, V]) Unload(key K) {
	_ = d.Sync()
	d.b.Unload(key)
}

// Pending is the number of pending writes (Sets and Deletes) not yet synced.
func (d *Bucket[K, V]) Pending() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.pending)
}

// PendingBytes estimates the memory pending writes take: their keys and
// encoded values, plus bookkeeping. Sync when it grows too large.
func (d *Bucket[K, V]) PendingBytes() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.bytes
}

// Discard drops every pending write, leaving the disk as it is. Writes that a
// Sync running at the same time has already started may still land.
func (d *Bucket[K, V]) Discard() {
	d.mu.Lock()
	clear(d.pending)
	d.bytes = 0
	d.mu.Unlock()
}

// lookup returns key's pending op, or nil.
func (d *Bucket[K, V]) lookup(kb []byte) *op {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pending[string(kb)]
}

// put makes o key's pending op. The caller holds mu.
func (d *Bucket[K, V]) put(k string, o *op) {
	if old, ok := d.pending[k]; ok {
		d.bytes -= old.size(k)
	}
	d.pending[k] = o
	d.bytes += o.size(k)
}

// drop removes key's pending op. The caller holds mu.
func (d *Bucket[K, V]) drop(k string) {
	if old, ok := d.pending[k]; ok {
		d.bytes -= old.size(k)
		delete(d.pending, k)
	}
}

func (d *Bucket[K, V]) now() time.Time { return d.clock() }

// live reports whether the wrapped Bucket would return rec at now: its own
// expiry has not passed, and it is no older than the Bucket's Lifetime.
func (d *Bucket[K, V]) live(rec store.Record, now time.Time) bool {
	return !rec.Expired(now) && (d.lifetime <= 0 || now.Sub(rec.WrittenAt) <= d.lifetime)
}

// keyText renders canonical key bytes for an error message.
func keyText(b []byte) string {
	const max = 120
	if len(b) > max {
		return fmt.Sprintf("%q... (%d bytes)", b[:max], len(b))
	}
	return fmt.Sprintf("%q", b)
}
