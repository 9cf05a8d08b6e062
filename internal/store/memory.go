package store

import (
	"sync"
	"sync/atomic"

	"github.com/bucketcache/bucketcache/internal/fsx"
)

// memory is the in-memory layer: per shard, a map from key hash to the last
// entry this Store read or wrote, in least-recently-used order, under a
// global byte limit. It keeps encoded bytes, never decoded values, so every
// Get decodes a fresh value that is the caller's own, exactly as a cold read
// would.
//
// An item remembers the shard generation it was read under and the identity
// of its file; it is served only while the generation is unchanged, or after
// a stat shows the same file still in place.
type memory struct {
	limit  int64
	used   atomic.Int64
	victim atomic.Uint64 // next shard to evict from when over the limit
	shards []memShard
}

type memShard struct {
	mu    sync.Mutex
	items map[uint64]*item // guarded by mu
	head  item             // guarded by mu; sentinel of the LRU ring, most recent first
}

// item is one remembered entry. Its fields other than prev and next are
// immutable once published, so a copy read under the shard's lock can be used
// after unlocking.
type item struct {
	hash       uint64
	key        []byte
	rec        Record
	gen        uint64 // shard generation the item was read or written under
	id         fsx.FileID
	size       int64
	used       int64 // Unix ns the file was last stamped as used; guarded by the shard's mu
	prev, next *item // guarded by the shard's mu
}

const itemOverhead = 160

func newMemory(shards int, limit int64) *memory {
	m := &memory{limit: limit, shards: make([]memShard, shards)}
	for i := range m.shards {
		sh := &m.shards[i]
		sh.items = make(map[uint64]*item)
		sh.head.prev, sh.head.next = &sh.head, &sh.head
	}
	return m
}

// get returns the item for key in shard i, marking it recently used. The
// caller may read its immutable fields without the lock. stamp reports that
// the file was last stamped as used at least every ns before now; the item
// then counts as stamped at now.
func (m *memory) get(i int, h uint64, key []byte, now, every int64) (it *item, stamp bool) {
	sh := &m.shards[i]
	sh.mu.Lock()
	p, ok := sh.items[h]
	if !ok || string(p.key) != string(key) {
		sh.mu.Unlock()
		return nil, false
	}
	if sh.head.next != p {
		sh.unlink(p)
		sh.pushFront(p)
	}
	if now-p.used >= every {
		p.used, stamp = now, true
	}
	sh.mu.Unlock()
	return p, stamp
}

// put remembers rec for key, replacing whatever was remembered for its hash.
func (m *memory) put(i int, h uint64, key []byte, rec Record, gen uint64, id fsx.FileID, used int64) {
	// The value counts twice: its bytes, and the decoded form a layer above
	// may keep in rec.Slot (estimated at the same size).
	size := int64(len(key)+2*len(rec.Value)+len(rec.Codec)) + itemOverhead
	if size > m.limit/4 {
		m.forget(i, h)
		return
	}
	it := &item{hash: h, key: key, rec: rec, gen: gen, id: id, size: size, used: used}
	sh := &m.shards[i]
	sh.mu.Lock()
	if old, ok := sh.items[h]; ok {
		sh.unlink(old)
		m.used.Add(-old.size)
	}
	sh.items[h] = it
	sh.pushFront(it)
	sh.mu.Unlock()
	if m.used.Add(size) > m.limit {
		m.evict()
	}
}

// revalidate records that the item for key, still the same file, is current
// as of generation gen.
func (m *memory) revalidate(i int, h uint64, key []byte, id fsx.FileID, gen uint64) {
	sh := &m.shards[i]
	sh.mu.Lock()
	if it, ok := sh.items[h]; ok && it.id.Same(id) && string(it.key) == string(key) {
		cp := *it
		cp.gen, cp.id = gen, id
		sh.unlink(it)
		sh.items[h] = &cp
		sh.pushFront(&cp)
	}
	sh.mu.Unlock()
}

// forget drops whatever is remembered for hash h.
func (m *memory) forget(i int, h uint64) {
	sh := &m.shards[i]
	sh.mu.Lock()
	if it, ok := sh.items[h]; ok {
		sh.unlink(it)
		delete(sh.items, h)
		m.used.Add(-it.size)
	}
	sh.mu.Unlock()
}

// evict drops least recently used items, one shard at a time round-robin,
// until usage is back under the limit.
func (m *memory) evict() {
	for tries := 0; m.used.Load() > m.limit && tries < 4*len(m.shards); tries++ {
		sh := &m.shards[m.victim.Add(1)%uint64(len(m.shards))]
		sh.mu.Lock()
		for n := 0; n < 8 && sh.head.prev != &sh.head && m.used.Load() > m.limit; n++ {
			it := sh.head.prev
			sh.unlink(it)
			delete(sh.items, it.hash)
			m.used.Add(-it.size)
		}
		sh.mu.Unlock()
	}
}

func (sh *memShard) unlink(it *item) {
	it.prev.next = it.next
	it.next.prev = it.prev
	it.prev, it.next = nil, nil
}

func (sh *memShard) pushFront(it *item) {
	it.prev = &sh.head
	it.next = sh.head.next
	sh.head.next.prev = it
	sh.head.next = it
}
