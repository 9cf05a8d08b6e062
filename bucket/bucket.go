// Package bucket is a dictionary-like cache of Go values kept in a directory
// of files: one file per entry, shared safely by every goroutine and every
// process on the machine that opens the same directory.
//
// Open's documentation states the multi-process contract. In short: writers
// write a temporary file and rename it into place under a per-shard lock, so
// readers, which never lock, see a whole old value or a whole new one; every
// read is verified, so damage is a miss and never a wrong value; and the
// in-memory layer is validated against a shared generation counter, so no
// Bucket ever serves a value that another Bucket or process has replaced or
// deleted since.
package bucket

import (
	"context"
	"fmt"
	"iter"
	"reflect"
	"time"

	"github.com/bucketcache/bucketcache/internal/core"
	"github.com/bucketcache/bucketcache/internal/store"
	"github.com/bucketcache/bucketcache/shard"
)

// ErrNotFound reports that a key is missing, expired, older than the Bucket's
// Lifetime, or that its file is malformed as an entry (corrupt, truncated,
// written by a different key that hashes alike). Test with errors.Is. Real
// I/O failures (EACCES, EISDIR, ENOSPC, ...) are not ErrNotFound: they are
// returned wrapped, with the path in the message. A well-formed entry whose
// value does not decode into V is not ErrNotFound either: that is a decode
// error, wrapped, naming the key.
var ErrNotFound error = store.ErrNotFound

// ErrClosed reports use of a Bucket after Close.
var ErrClosed error = store.ErrClosed

// ErrNotBucket reports that Open was given a directory that holds files but
// is not a bucket directory (it has no BUCKETCACHE file): another program's,
// most likely. Open then changes nothing. Set Options.Adopt to make a bucket
// of such a directory on purpose.
var ErrNotBucket error = shard.ErrForeign

// Options configure a Bucket. The zero value is ready to use.
type Options struct {
	// Lifetime of entries this Bucket writes, and the oldest entry it returns:
	// an entry written more than Lifetime ago is a miss here, even if another
	// Bucket stored it with a longer lifetime. 0: entries never expire.
	// Negative: Open fails.
	Lifetime time.Duration
	// Codec encodes values. nil: JSON. Entries written by any built-in codec
	// are readable whatever the Codec.
	Codec Codec
	// KeyMaker turns keys into canonical bytes. nil: DefaultKeyMaker.
	KeyMaker KeyMaker
	// Now is the clock. nil: time.Now.
	Now func() time.Time
	// Shards is the shard count of a new bucket directory (0: 256, or what an
	// existing directory records). An existing directory's count cannot
	// change: a different non-zero value makes Open fail.
	Shards int
	// Durable fsyncs each entry file and its directory on every write, so an
	// acknowledged write survives power loss. Off by default: a crash can then
	// lose recent writes, but never tears one or damages an older one.
	Durable bool
	// MemoryLimit bounds the bytes of keys and values the Bucket keeps in
	// memory (each value counted twice: encoded, and decoded for warm reads).
	// 0: 64 MiB. Negative: no in-memory layer.
	MemoryLimit int64

	// MaxBytes and MaxEntries bound the directory's entry files (0:
	// unlimited). Past a limit, a trim in the background evicts the least
	// recently used entries until usage is under 90% of it; Set never waits
	// for a trim. At most one process trims at a time, at most once per
	// TrimInterval (0: ten seconds). A trim never evicts an entry that any
	// process read or wrote within EvictionGrace (0: one minute), nor one a
	// Memoize is computing. Every process sharing a directory should use the
	// same limits and grace.
	MaxBytes      int64
	MaxEntries    int64
	EvictionGrace time.Duration
	TrimInterval  time.Duration

	// SharedFilesystem says the directory is on a filesystem that several
	// machines mount (GlusterFS; NFS with working flock). Memory mappings are
	// not coherent across machines, so warm reads are then validated with a
	// stat instead of the shared generation counters, and opens failing with
	// ESTALE are retried, then misses. Open turns it on by itself on network
	// and FUSE filesystems. See docs/shared-filesystems.md for what is and
	// is not guaranteed there.
	SharedFilesystem bool

	// Adopt lets Open make a bucket of a directory that already holds files
	// but is not a bucket directory, which Open otherwise refuses with
	// ErrNotBucket. Even then no file whose name the bucket does not use is
	// ever touched: Prune and Clear remove only entry, temporary and key
	// lock files, and only entry files that carry the entry format's magic
	// number.
	Adopt bool
}

// config is o as the engine reads it.
func (o Options) config() store.Config {
	return store.Config{
		Lifetime:         o.Lifetime,
		Shards:           o.Shards,
		Durable:          o.Durable,
		MemoryLimit:      o.MemoryLimit,
		Now:              o.Now,
		MaxBytes:         o.MaxBytes,
		MaxEntries:       o.MaxEntries,
		EvictionGrace:    o.EvictionGrace,
		TrimInterval:     o.TrimInterval,
		SharedFilesystem: o.SharedFilesystem,
		Adopt:            o.Adopt,
	}
}

// Bucket is a cache of V values under K keys, kept in a directory. Its
// methods are safe for concurrent use.
type Bucket[K, V any] struct {
	st       *store.Store
	engine   *core.Engine[K, V]
	opts     Options
	codec    Codec
	codecs   map[string]Codec // by name: the built-ins and the Bucket's own
	keys     KeyMaker
	memo     memoCounters
	valueTyp reflect.Type
	copy     func(*V) (V, bool) // deep copy for warm reads (clone.go)
}

// Open opens the bucket directory dir, creating it (and its parents) if
// needed.
//
// dir may be shared with other Buckets and other processes at the same time,
// on one machine, as long as flock(2) works on its filesystem. Every Bucket
// on the directory agrees on where each key lives (the layout is recorded in
// the directory once). A write replaces a file atomically: a concurrent or
// crashed writer leaves the old value or the new one, never a mix, and a
// failed write leaves the old value readable. Reads take no lock and verify
// every byte they use; whatever the file's state (truncated, flipped bytes,
// replaced by a symlink or a directory) a read returns the right value or
// ErrNotFound, never a wrong value or a panic. What one Bucket or process
// writes or deletes, every other reads on its next Get: the in-memory copy
// is checked against a per-shard generation counter shared by all processes
// through a mapped file. Expiry is absolute and judged by each reader's
// clock; a Bucket deletes only entries whose own stored expiry has passed, so
// Buckets with different lifetimes never destroy each other's live entries.
// Several machines may share dir through GlusterFS (see
// Options.SharedFilesystem, turned on by itself there): the same holds while
// the network does, and under a partition Memoize degrades to at-least-once;
// never a torn or wrong value. Other network filesystems need flock that
// excludes across machines.
//
// All of this holds on Linux, macOS, FreeBSD and Windows, with these
// exceptions: a directory shared by several machines is supported from Linux
// only (elsewhere another machine's changes may be seen late); on Windows a
// process that can write into dir could, by racing, make a Bucket follow a
// junction it planted, which unix systems always refuse; and a write that
// Windows refuses because another program holds the entry open without
// sharing is retried for up to 2 seconds, then fails, leaving the old value.
// The repository's docs/platforms.md has the details.
func Open[K, V any](dir string, opts Options) (*Bucket[K, V], error) {
	if opts.Codec == nil {
		opts.Codec = JSON
	}
	if opts.KeyMaker == nil {
		opts.KeyMaker = DefaultKeyMaker
	}
	vt := reflect.TypeFor[V]()
	if tc, ok := opts.Codec.(typeChecker); ok {
		if err := tc.checkType(vt); err != nil {
			return nil, fmt.Errorf("bucket %s: %w", dir, err)
		}
	}
	if n := len(opts.Codec.Name()); n == 0 || n > 255 {
		return nil, fmt.Errorf("bucket %s: codec name %q must be 1 to 255 bytes", dir, opts.Codec.Name())
	}
	st, err := store.Open(dir, opts.config()) // a nil Now lets it read the clock its cheapest way
	if err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	codecs := make(map[string]Codec, len(builtinCodecs)+1)
	for name, c := range builtinCodecs {
		codecs[name] = c
	}
	codecs[opts.Codec.Name()] = opts.Codec
	b := &Bucket[K, V]{st: st, opts: opts, codec: opts.Codec, codecs: codecs, keys: opts.KeyMaker, valueTyp: vt, copy: copierFor[V]()}
	b.engine = &core.Engine[K, V]{
		Store: st, Lifetime: opts.Lifetime, Now: opts.Now, Codec: opts.Codec.Name(),
		KeyBytes: b.keyBytes, Encode: b.encode, Decode: b.decodeRecord,
	}
	return b, nil
}

func init() {
	core.Lend = func(b any) any { return b.(interface{ lend() any }).lend() }
}

// lend gives package deferred the Bucket's engine (see internal/core).
func (b *Bucket[K, V]) lend() any { return b.engine }

// Options returns the Bucket's options, with defaults filled in.
func (b *Bucket[K, V]) Options() Options { return b.opts }

// Dir is the bucket directory's absolute path.
func (b *Bucket[K, V]) Dir() string { return b.st.Dir() }

// Close releases the Bucket's memory and descriptors. The files stay.
// Closing a closed Bucket does nothing and returns nil; any other use of it
// returns ErrClosed.
func (b *Bucket[K, V]) Close() error { return b.st.Close() }

// keyBytes returns key's canonical bytes, as the Bucket's KeyMaker makes them.
func (b *Bucket[K, V]) keyBytes(key K) ([]byte, error) {
	kb, err := b.keys.MakeKey(key)
	if err != nil {
		return nil, fmt.Errorf("bucket: key %v: %w", key, err)
	}
	return kb, nil
}

// encode encodes value with the Bucket's codec.
func (b *Bucket[K, V]) encode(value V) ([]byte, error) {
	data, err := b.codec.Marshal(value)
	if err != nil {
		return nil, fmt.Errorf("bucket: encoding %T with %s: %w", value, b.codec.Name(), err)
	}
	return data, nil
}

// decodeRecord decodes a record's value into a fresh V, with the codec that
// wrote it. kb names the key in errors. A record the Store keeps in memory
// keeps its decoded value too, and decodeRecord then returns a deep copy of
// it, which equals a fresh decode and shares nothing with it (see clone.go).
func (b *Bucket[K, V]) decodeRecord(kb []byte, rec store.Record) (V, error) {
	var out V
	slot := rec.Slot
	if rec.Codec == Raw.Name() {
		// A []byte or string without the codec's interface; a []byte read
		// for this call alone (Private) without a copy either.
		if decodeRaw(rec.Value, rec.Private, &out) {
			return out, nil
		}
		slot = nil // decoding Raw is one copy already: nothing to save
	}
	if slot != nil {
		if kept, ok := slot.Load().(*V); ok {
			if v, ok := b.copy(kept); ok {
				return v, nil
			}
		}
	}
	v, err := b.decode(kb, rec)
	if err == nil && slot != nil {
		if kept, ok := b.copy(&v); ok {
			slot.Store(&kept)
		}
	}
	return v, err
}

func (b *Bucket[K, V]) decode(kb []byte, rec store.Record) (V, error) {
	var v V
	c, ok := b.codecs[rec.Codec]
	if !ok {
		return v, fmt.Errorf("bucket: key %s: entry written with unknown codec %q", keyText(kb), rec.Codec)
	}
	if err := c.Unmarshal(rec.Value, &v); err != nil {
		return v, fmt.Errorf("bucket: key %s: decoding %s value into %v: %w", keyText(kb), rec.Codec, b.valueTyp, err)
	}
	return v, nil
}

// Get returns key's value. It returns ErrNotFound when the key is absent,
// expired or older than the Bucket's Lifetime. The value is the caller's own:
// it is decoded afresh on every call.
func (b *Bucket[K, V]) Get(key K) (V, error) {
	var zero V
	var scratch [keyScratch]byte
	kb, buf, err := b.readKey(&scratch, key)
	if err != nil {
		return zero, err
	}
	defer releaseKey(buf)
	rec, err := b.st.Get(kb)
	if err != nil {
		return zero, err
	}
	return b.decodeRecord(kb, rec)
}

// Set stores value under key, expiring Lifetime from now (never, when
// Lifetime is 0). The value is encoded first: when the codec refuses it,
// nothing changes. When the write fails, the old value stays readable.
func (b *Bucket[K, V]) Set(key K, value V) error {
	return b.set(context.Background(), key, value, b.opts.Lifetime)
}

// SetContext is Set, waiting for the lock of key's shard (which another
// process may hold) only until ctx ends. Then it returns ctx.Err(), wrapped,
// and nothing has changed: the old value, if any, stays.
func (b *Bucket[K, V]) SetContext(ctx context.Context, key K, value V) error {
	return b.set(ctx, key, value, b.opts.Lifetime)
}

// SetWithLifetime stores value under key, expiring lifetime from now (never,
// when lifetime is 0), whatever the Bucket's Lifetime. This Bucket still
// returns it only while it is younger than its own Lifetime.
func (b *Bucket[K, V]) SetWithLifetime(key K, value V, lifetime time.Duration) error {
	return b.SetWithLifetimeContext(context.Background(), key, value, lifetime)
}

// SetWithLifetimeContext is SetWithLifetime, waiting for the lock of key's
// shard only until ctx ends, as SetContext does.
func (b *Bucket[K, V]) SetWithLifetimeContext(ctx context.Context, key K, value V, lifetime time.Duration) error {
	if lifetime < 0 {
		return fmt.Errorf("bucket: negative lifetime %v", lifetime)
	}
	return b.set(ctx, key, value, lifetime)
}

func (b *Bucket[K, V]) set(ctx context.Context, key K, value V, lifetime time.Duration) error {
	kb, err := b.keyBytes(key)
	if err != nil {
		return err
	}
	if b.codec == Raw {
		// The caller's bytes go to Put as they are, without the copy Encode
		// makes (a whole copy of the value, the dearest part of encoding a
		// large one): Put copies them into the entry and keeps no reference.
		if x, ok := any(value).([]byte); ok {
			return b.st.PutContext(ctx, kb, b.record(x, lifetime), false)
		}
	}
	data, err := b.encode(value)
	if err != nil {
		return err
	}
	return b.st.PutContext(ctx, kb, b.record(data, lifetime), true) // freshly encoded: the Store may keep it
}

// record returns a record of encoded data written now, expiring after lifetime.
func (b *Bucket[K, V]) record(data []byte, lifetime time.Duration) store.Record {
	now := b.opts.Now()
	rec := store.Record{Codec: b.codec.Name(), Value: data, WrittenAt: now}
	if lifetime > 0 {
		rec.ExpiresAt = now.Add(lifetime)
	}
	return rec
}

// Delete removes key's entry. It returns ErrNotFound when Get would not have
// found it.
func (b *Bucket[K, V]) Delete(key K) error { return b.DeleteContext(context.Background(), key) }

// DeleteContext is Delete, waiting for the lock of key's shard only until
// ctx ends. Then it returns ctx.Err(), wrapped, and the entry stays.
func (b *Bucket[K, V]) DeleteContext(ctx context.Context, key K) error {
	kb, err := b.keyBytes(key)
	if err != nil {
		return err
	}
	return b.st.DeleteContext(ctx, kb)
}

// Contains reports whether Get would find key.
func (b *Bucket[K, V]) Contains(key K) (bool, error) {
	var scratch [keyScratch]byte
	kb, buf, err := b.readKey(&scratch, key)
	if err != nil {
		return false, err
	}
	defer releaseKey(buf)
	return b.st.Contains(kb)
}

// Unload forgets the in-memory copy of key's entry; the file stays.
func (b *Bucket[K, V]) Unload(key K) {
	if kb, err := b.keys.MakeKey(key); err == nil {
		b.st.Forget(kb)
	}
}

// PruneInfo reports what Prune removed.
type PruneInfo struct {
	Files   int   // files deleted: Expired + Corrupt + Temp + Locks
	Bytes   int64 // their total size on disk
	Expired int   // entries whose stored expiry had passed
	Corrupt int   // damaged entry files, and symlinks in an entry's place
	Temp    int   // temporary files left by writers that died
	Locks   int   // per-key lock files left by memoized runs that died
	Foreign int   // files in an entry's place that are not the bucket's, left alone
}

func pruneInfo(p store.PruneInfo) PruneInfo {
	return PruneInfo{Files: p.Files, Bytes: p.Bytes, Expired: p.Expired, Corrupt: p.Corrupt,
		Temp: p.Temp, Locks: p.Locks, Foreign: p.Foreign}
}

// Prune deletes entries whose own stored expiry has passed (whichever Bucket
// wrote them), damaged entry files, temporary files abandoned by crashed
// writers and per-key lock files left by memoized runs whose process died.
// It holds each shard's lock while it works on it, so it never removes an
// entry being written. It reads headers only, and only of files whose size
// or times say they may have to go, so damage inside a value of a live entry
// is left for Get (which misses it and removes the file) and for
// `bucketfs verify -fix`. It never removes a file that is not the bucket's:
// one whose name the bucket does not use, one without the entry format's
// magic number, or a directory.
func (b *Bucket[K, V]) Prune() (PruneInfo, error) { return b.PruneContext(context.Background()) }

// PruneContext is Prune, stopping when ctx ends: then it returns what it
// removed so far and ctx.Err(), wrapped. It stops between files and never
// inside a shard's change, so every shard it touched is consistent and no
// shard lock stays held.
func (b *Bucket[K, V]) PruneContext(ctx context.Context) (PruneInfo, error) {
	info, err := b.st.Prune(ctx)
	return pruneInfo(info), err
}

// Usage is how much the directory's entry files take, against the limits.
type Usage = store.Usage

// Usage returns the directory's usage as the counters shared by every
// process know it, without a system call.
func (b *Bucket[K, V]) Usage() Usage { return b.st.Usage() }

// TrimInfo reports what a trim did.
type TrimInfo = store.TrimInfo

// Trim evicts least recently used entries now, if usage is over a limit,
// waiting while another process trims. Trims also run by themselves in the
// background; Trim is for callers that want one at a moment of their choosing.
func (b *Bucket[K, V]) Trim(ctx context.Context) (TrimInfo, error) { return b.st.Trim(ctx) }

// Clear deletes every entry in the directory, whichever Bucket wrote it.
func (b *Bucket[K, V]) Clear() error { return b.ClearContext(context.Background()) }

// ClearContext is Clear, stopping when ctx ends, as PruneContext does: the
// entries not yet removed stay, each whole.
func (b *Bucket[K, V]) ClearContext(ctx context.Context) error { return b.st.Clear(ctx) }

// Len counts the entries Keys yields: the live entries whose key is a K
// (with a KeyMaker that cannot parse keys, every live entry stored by Set).
// Entries of Memoize, whose keys are calls rather than Ks, are not counted,
// nor are damaged entries, which Get would miss. It reads every entry file
// in full, as All does.
func (b *Bucket[K, V]) Len() (int, error) { return b.LenContext(context.Background()) }

// LenContext is Len, stopping when ctx ends: then it returns ctx.Err(),
// wrapped.
func (b *Bucket[K, V]) LenContext(ctx context.Context) (int, error) {
	isK := func(kb []byte) bool { _, ok := parseKey[K](b.keys, kb); return ok }
	if _, ok := b.keys.(KeyParser); !ok {
		isK = func(kb []byte) bool { return !isMemoKey(kb) }
	}
	return b.st.Count(ctx, isK)
}

// All yields every live entry whose key is a K and whose value decodes into a
// V, in no particular order. Entries written or deleted during the walk may
// or may not be seen. It panics if the KeyMaker cannot parse keys (see
// KeyParser). All skips what it cannot read or decode without a word: to see
// those errors, or to bound the walk with a context, use Entries.
func (b *Bucket[K, V]) All() iter.Seq2[K, V] {
	b.mustParse()
	return func(yield func(K, V) bool) {
		for f, err := range b.st.All(context.Background()) {
			if err != nil {
				continue
			}
			kb, rec := f.Key, f.Record
			k, ok := parseKey[K](b.keys, kb)
			if !ok {
				continue
			}
			v, err := b.decodeRecord(kb, rec)
			if err != nil {
				continue
			}
			if !yield(k, v) {
				return
			}
		}
	}
}

// Keys yields the key of every live entry whose key is a K. Like All, it
// skips what it cannot read and panics without a KeyParser: Entries reports
// both.
func (b *Bucket[K, V]) Keys() iter.Seq[K] {
	b.mustParse()
	return func(yield func(K) bool) {
		for f, err := range b.st.All(context.Background()) {
			if err != nil {
				continue
			}
			if k, ok := parseKey[K](b.keys, f.Key); ok && !yield(k) {
				return
			}
		}
	}
}

func (b *Bucket[K, V]) mustParse() {
	if _, ok := b.keys.(KeyParser); !ok {
		panic(fmt.Sprintf("bucket: KeyMaker %T does not implement KeyParser; All and Keys need it", b.keys))
	}
}
