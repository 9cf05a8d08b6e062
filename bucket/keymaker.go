package bucket

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/bucketcache/bucketcache/internal/canon"
)

// KeyMaker turns keys into canonical bytes: equal keys must give equal bytes
// in every process and every run, and distinct keys distinct bytes.
type KeyMaker interface {
	MakeKey(key any) ([]byte, error)
}

// KeyParser is implemented by KeyMakers that can turn canonical bytes back
// into a key. Iteration (All, Keys) needs it.
type KeyParser interface {
	// ParseKey decodes data into the key that ptr points to.
	ParseKey(data []byte, ptr any) error
}

// DefaultKeyMaker is the KeyMaker used when Options.KeyMaker is nil. It
// writes keys as canonical JSON text (package canon): map entries sorted,
// struct fields in order, numbers compared by value, invalid UTF-8 kept
// exactly. Keys with no canonical form (funcs, channels, NaN, cycles, structs
// with unexported fields and no MarshalText) are an error.
var DefaultKeyMaker KeyMaker = canonKeys{}

type canonKeys struct{}

func (canonKeys) MakeKey(key any) ([]byte, error)     { return canon.Marshal(key) }
func (canonKeys) ParseKey(data []byte, ptr any) error { return canon.Unmarshal(data, ptr) }

var keyBufs = sync.Pool{New: func() any { return new([]byte) }}

// keyScratch is the room a lookup keeps on its stack for a string key's
// canonical bytes; longer keys use a pooled buffer.
const keyScratch = 128

// readKey returns key's canonical bytes for a lookup that keeps no reference
// to them, and the pooled buffer they are in (nil when they are not), which
// the caller hands back to releaseKey once done with them. A string key of
// the default KeyMaker is written into scratch, on the caller's stack, any
// other key of it into a pooled buffer, so a warm Get allocates nothing for
// its key.
func (b *Bucket[K, V]) readKey(scratch *[keyScratch]byte, key K) ([]byte, *[]byte, error) {
	if _, ok := b.keys.(canonKeys); !ok {
		kb, err := b.keyBytes(key)
		return kb, nil, err
	}
	if s, ok := any(key).(string); ok { // no interface to allocate
		return canon.AppendString(scratch[:0], s), nil, nil // grown on the heap if it does not fit
	}
	buf := keyBufs.Get().(*[]byte)
	kb, err := canon.AppendMarshal((*buf)[:0], key)
	if err != nil {
		keyBufs.Put(buf)
		return nil, nil, fmt.Errorf("bucket: key %v: %w", key, err)
	}
	*buf = kb
	return kb, buf, nil
}

// releaseKey recycles a buffer from readKey.
func releaseKey(buf *[]byte) {
	if buf != nil && cap(*buf) <= 64<<10 {
		*buf = (*buf)[:0]
		keyBufs.Put(buf)
	}
}

// keyText renders canonical key bytes for an error message.
func keyText(b []byte) string {
	const max = 120
	if len(b) > max {
		return fmt.Sprintf("%q... (%d bytes)", string(b[:max]), len(b))
	}
	return fmt.Sprintf("%q", string(b)) // a copy: b may be a lookup's scratch space
}

// parseKey decodes canonical bytes into a K, and reports whether they are
// exactly the bytes that K makes (so the entry belongs to a Bucket of this
// key type).
func parseKey[K any](km KeyMaker, data []byte) (K, bool) {
	var k K
	p, ok := km.(KeyParser)
	if !ok || p.ParseKey(data, &k) != nil {
		return k, false
	}
	again, err := km.MakeKey(k)
	return k, err == nil && string(again) == string(data)
}

// isMemoKey reports whether kb is the key of a Memoize entry.
func isMemoKey(kb []byte) bool { return bytes.HasPrefix(kb, []byte(memoKeyPrefix)) }
