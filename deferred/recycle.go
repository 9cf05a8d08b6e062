package deferred

import (
	"sync"

	"github.com/bucketcache/bucketcache/internal/store"
)

// A pending value is a copy, made at Set, of the caller's value. Large raw
// values ([]byte or string with the Raw codec) are copied into buffers that
// earlier Syncs wrote and let go of: the Store does not keep such values in
// memory (store.WorthKeeping), so once written they are free. Without the
// reuse, every batch of large values would be new memory for the runtime to
// fault in and collect, which costs more than the writes themselves.

// bufs holds written large raw values for reuse. The garbage collector
// empties it, so an idle Bucket holds on to nothing.
var bufs sync.Pool // of *[]byte

// encode encodes value with the wrapped Bucket's codec: a large raw value
// into a reused buffer, anything else as the Bucket encodes it.
func (d *Bucket[K, V]) encode(value V) ([]byte, error) {
	if d.codec == store.RawCodec {
		switch v := any(&value).(type) {
		case *[]byte:
			if b, ok := reused(len(*v)); ok {
				return append(b, *v...), nil
			}
		case *string:
			if b, ok := reused(len(*v)); ok {
				return append(b, *v...), nil
			}
		}
	}
	return d.e.Encode(value)
}

// reused returns an empty buffer with room for n bytes, from a value an
// earlier Sync wrote, when a value of n bytes is one that is recycled.
func reused(n int) ([]byte, bool) {
	if store.WorthKeeping(store.RawCodec, n) {
		return nil, false
	}
	if p, ok := bufs.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:0], true
	}
	return make([]byte, 0, n), true
}

// recycle offers for reuse the values of ops that Sync wrote and that left
// pending (written, or replaced since). It first waits for any Get still
// decoding one of them.
func (d *Bucket[K, V]) recycle(done []*op) {
	if len(done) == 0 {
		return
	}
	d.readers.Lock() // waits for Gets that found one of them; later ones cannot
	d.readers.Unlock()
	for _, o := range done {
		b := o.rec.Value[:0]
		bufs.Put(&b)
	}
}
