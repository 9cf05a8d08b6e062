package store

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/bucketcache/bucketcache/internal/fsx"
	"github.com/bucketcache/bucketcache/internal/posix"
	"github.com/bucketcache/bucketcache/shard"
)

// Record is an entry's content as the Store returns or takes it.
type Record struct {
	Codec string // the codec that encoded Value
	// Value is the encoded value. A Record returned by Get shares it with the
	// Store's memory: callers must not modify it.
	Value     []byte
	WrittenAt time.Time
	ExpiresAt time.Time // zero: never expires
	// Slot is where a layer above may keep a decoded form of this exact
	// record while the Store keeps it in memory (package bucket keeps the
	// decoded value). nil when the record is not kept in memory.
	Slot *Slot
	// Private, in a Record returned by Get, says that nothing else holds
	// Value (it was read from the file and not kept): the caller may keep
	// it as its own, without a copy.
	Private bool
}

// RawCodec is the name of the codec whose decoded form is the value's bytes
// themselves (package bucket's Raw).
const RawCodec = "raw"

// WorthKeeping reports whether the memory layer keeps a value of n bytes
// encoded by codec. A large raw value is not kept, when written or read:
// keeping it would save no decoding, only a read that costs about what the
// copy a warm read makes does, while it would hold memory (and make the
// garbage collector work) for nothing. A cold read hands it to the caller
// instead (Private). A value the Store does not keep is never referenced by
// it once the write that was given it returns.
func WorthKeeping(codec string, n int) bool { return codec != RawCodec || n < largeValue }

// Slot holds a decoded form of one record. Every copy of the record that
// the Store hands out while it remembers the record shares the same Slot, and
// a new version of the entry gets a new Slot, so what a Slot holds always
// belongs to the bytes it came with. Its methods are safe for concurrent use.
type Slot struct {
	v atomic.Pointer[slotValue]
}

type slotValue struct{ v any }

// Load returns what Store put in the slot, or nil.
func (s *Slot) Load() any {
	if p := s.v.Load(); p != nil {
		return p.v
	}
	return nil
}

// Store keeps v in the slot. v must not be modified afterwards.
func (s *Slot) Store(v any) { s.v.Store(&slotValue{v}) }

// Expired reports whether the record's stored expiry has passed at now.
// At the exact instant of expiry it is still live.
func (r Record) Expired(now time.Time) bool {
	return !r.ExpiresAt.IsZero() && now.After(r.ExpiresAt)
}

// tooOld reports whether the record is older than the Store's lifetime.
func (s *Store) tooOld(r Record, now time.Time) bool {
	return s.opts.Lifetime > 0 && now.Sub(r.WrittenAt) > s.opts.Lifetime
}

func recordOf(e shard.Entry) Record {
	r := Record{Codec: e.Codec, Value: e.Value, WrittenAt: time.Unix(0, e.WrittenAt)}
	if e.ExpiresAt != 0 {
		r.ExpiresAt = time.Unix(0, e.ExpiresAt)
	}
	return r
}

// Get returns key's record. It returns an error wrapping ErrNotFound when the
// key is absent, expired, older than the Store's lifetime, or its file is
// damaged; an entry whose own expiry has passed is deleted. Other errors are
// real I/O failures, wrapped with the path.
// It counts a hit or a miss in Stats.
func (s *Store) Get(key []byte) (Record, error) {
	rec, fromMemory, err := s.lookup(key)
	switch {
	case err == nil:
		if fromMemory {
			s.stats.memoryHits.Add(1)
		} else {
			s.stats.fileHits.Add(1)
		}
	case err == ErrNotFound:
		s.stats.misses.Add(1)
	}
	return rec, err
}

// Lookup is Get without counting a hit or a miss: for a second look at a
// key whose first look was counted (a memoized call looks again once it
// holds the argument's lock).
func (s *Store) Lookup(key []byte) (Record, error) {
	rec, _, err := s.lookup(key)
	return rec, err
}

// lookup does the work of Get and Lookup, and reports whether the record
// came from memory.
func (s *Store) lookup(key []byte) (Record, bool, error) {
	if err := s.checkOpen(); err != nil {
		return Record{}, false, err
	}
	h := shard.Hash(key)
	i := s.layout.Index(h)
	gen := uncounted
	if s.mem != nil {
		mono := shard.Monotonic()
		if s.ctrs != nil {
			gen = s.generation(i, mono)
		}
		if it, stamp := s.mem.get(i, h, key, s.clock.approx(mono), int64(s.opts.EvictionGrace)); it != nil {
			var now time.Time // read only when a decision needs it
			if stamp || !it.rec.ExpiresAt.IsZero() || s.opts.Lifetime > 0 {
				now = s.opts.Now()
			}
			if stamp {
				s.stampUsed(h, now)
			}
			if rec, ok := s.warm(i, h, key, it, gen, now); ok {
				if s.tooOld(rec, now) {
					return Record{}, false, ErrNotFound
				}
				return rec, true, nil
			}
		}
	}
	rec, err := s.cold(i, h, key, gen, s.opts.Now())
	return rec, false, err
}

// warm decides whether a remembered item may be served at now.
func (s *Store) warm(i int, h uint64, key []byte, it *item, gen uint64, now time.Time) (Record, bool) {
	if it.rec.Expired(now) {
		return Record{}, false // the cold path deletes it
	}
	if it.gen == gen && gen != uncounted && shard.Stable(gen) {
		return it.rec, true
	}
	id, err := s.statEntry(s.layout.EntryPath(h))
	if err != nil || !it.id.Same(id) {
		s.mem.forget(i, h)
		return Record{}, false
	}
	if shard.Stable(gen) {
		s.mem.revalidate(i, h, key, id, gen)
	}
	return it.rec, true
}

// generation returns shard i's generation as the memory layer compares it:
// the counter, plus in its top bits how often the counters file was mapped
// again after damage (see shard.Counters), so that a copy validated against
// a file since zeroed, remade or replaced is never trusted without a stat.
// Adding a multiple of 2 keeps the parity that says whether it is stable.
// mono is a shard.Monotonic reading the caller took.
func (s *Store) generation(i int, mono int64) uint64 {
	g := s.ctrs.LoadAt(i, mono)
	return g + s.ctrs.Remaps()<<48
}

// uncounted stands for the generation on a shared filesystem, where there
// are no counters: it is odd, so nothing is trusted without a stat.
const uncounted = ^uint64(0)

// cold reads key's entry from disk; gen is the shard's generation loaded
// before the read.
func (s *Store) cold(i int, h uint64, key []byte, gen uint64, now time.Time) (Record, error) {
	rel := s.layout.EntryPath(h)
	e, id, used, err := s.readEntry(rel, shard.Whole, key, true)
	if err != nil {
		if r := shard.ReasonOf(err); r != "" {
			// A key that hashed alike is not damage, and what the format
			// does not own (Reason.Foreign) is not ours to remove.
			if r != shard.ReasonKey && !r.Foreign() {
				s.stats.corrupt.Add(1)
				if id != (fsx.FileID{}) { // a damaged file: remove it, unless replaced since
					s.removeIfSame(i, h, id)
				}
			}
			err = ErrNotFound
		}
		return Record{}, err
	}
	rec := recordOf(e)
	if rec.Expired(now) {
		s.stats.expired.Add(1)
		s.removeIfSame(i, h, id)
		return Record{}, ErrNotFound
	}
	switch {
	case s.mem == nil || !shard.Stable(gen) && gen != uncounted:
		rec.Private = true
	case !WorthKeeping(rec.Codec, len(rec.Value)):
		s.mem.forget(i, h)
		rec.Private = true
	default:
		rec.Slot = new(Slot)
		s.mem.put(i, h, e.Key, rec, gen, id, used)
	}
	if s.tooOld(rec, now) {
		return Record{}, ErrNotFound
	}
	return rec, nil
}

// stampUsed records in the access time of the entry file for hash h that
// it was used at now, for eviction's sake. Only the access time changes, so
// the file's identity (and every copy of it kept in memory) stays valid.
func (s *Store) stampUsed(h uint64, now time.Time) {
	ts := []posix.Timespec{posix.NsecToTimespec(now.UnixNano()), {Nsec: posix.UTIME_OMIT}}
	posix.UtimesNanoAt(s.root, s.layout.EntryPath(h), ts, posix.AT_SYMLINK_NOFOLLOW)
}

// Contains reports whether Get would find key, without giving the value.
func (s *Store) Contains(key []byte) (bool, error) {
	_, err := s.Get(key)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Forget drops key from the Store's memory; its file stays.
func (s *Store) Forget(key []byte) {
	if s.mem != nil {
		h := shard.Hash(key)
		s.mem.forget(s.layout.Index(h), h)
	}
}
