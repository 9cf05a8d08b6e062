package bucket

import (
	"context"
	"errors"
	"fmt"
	"iter"
)

// ErrNoKeyParser is the error Entries yields when the Bucket's KeyMaker
// cannot turn stored keys back into Ks (it does not implement KeyParser).
var ErrNoKeyParser = errors.New("bucket: the KeyMaker does not implement KeyParser")

// Entry is one entry found by Entries.
type Entry[K, V any] struct {
	Key   K
	Value V
}

// Entries yields every live entry whose key is a K, with its value decoded,
// in no particular order, together with what went wrong on the way, the way
// bufio.Scanner and database/sql's Rows report errors, but as an iterator:
//
//	for e, err := range b.Entries(ctx) {
//		if err != nil {
//			// an I/O error, a value that does not decode, or ctx's end
//			continue // or break: the walk goes on while the loop does
//		}
//		use(e.Key, e.Value)
//	}
//
// An error comes with a zero Entry, except that a value that does not decode
// comes with its Key (and a zero Value). Errors reading the directory or an
// entry, and values that do not decode into a V (each naming the key), are
// yielded and the walk goes on. When ctx ends, its error, wrapped, is
// yielded last. With a KeyMaker that cannot parse keys, ErrNoKeyParser is the
// only thing yielded. Entries whose key is not a K (those of Memoize, or of
// another program's Bucket of another key type) and damaged entries, which
// Get would miss, are skipped: they are not this Bucket's entries.
//
// All and Keys are the same walk without the errors.
func (b *Bucket[K, V]) Entries(ctx context.Context) iter.Seq2[Entry[K, V], error] {
	return func(yield func(Entry[K, V], error) bool) {
		if _, ok := b.keys.(KeyParser); !ok {
			yield(Entry[K, V]{}, fmt.Errorf("%w (%T): Entries, All and Keys need it", ErrNoKeyParser, b.keys))
			return
		}
		for f, err := range b.st.All(ctx) {
			if err != nil {
				if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
					yield(Entry[K, V]{}, fmt.Errorf("bucket: walk stopped: %w", err))
					return
				}
				if !yield(Entry[K, V]{}, err) {
					return
				}
				continue
			}
			k, ok := parseKey[K](b.keys, f.Key)
			if !ok {
				continue
			}
			v, err := b.decodeRecord(f.Key, f.Record)
			if err != nil {
				err = fmt.Errorf("bucket: entry %q: %w", f.Key, err)
			}
			if err != nil {
				v = *new(V)
			}
			if !yield(Entry[K, V]{Key: k, Value: v}, err) {
				return
			}
		}
	}
}
