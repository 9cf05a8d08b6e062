// Package selfcheck makes cache values that prove their own integrity, for
// stress tests: each names its key, its writer and a sequence number, carries
// padding derived from them, and ends with a checksum of everything else. A
// torn value, a value mixed from two writes, or a value stored under the
// wrong key fails Check.
package selfcheck

import (
	"errors"
	"fmt"
	"hash/crc64"
)

// Value is a self-checking cache value. Encode it with any codec.
type Value struct {
	Key    string // the key it was stored under
	Writer string // who wrote it (process and goroutine)
	Seq    uint64 // the writer's sequence number, increasing per key
	Pad    []byte // filler derived from the fields above
	Sum    uint64 // CRC-64 of all of the above
}

var table = crc64.MakeTable(crc64.ECMA)

// New returns the value writer stores under key as its seq'th write, with
// padLen bytes of filler so values can be made large.
func New(key, writer string, seq uint64, padLen int) Value {
	v := Value{Key: key, Writer: writer, Seq: seq, Pad: make([]byte, padLen)}
	for i := range v.Pad {
		v.Pad[i] = byte(uint64(i)*31 + seq + uint64(len(key)))
	}
	v.Sum = v.sum()
	return v
}

func (v Value) sum() uint64 {
	h := crc64.New(table)
	fmt.Fprintf(h, "%q|%q|%d|", v.Key, v.Writer, v.Seq)
	h.Write(v.Pad)
	return h.Sum64()
}

// ErrForeign reports a value stored under another key than its own.
var ErrForeign = errors.New("selfcheck: value belongs to another key")

// Check reports whether v is intact and was stored under key.
func Check(key string, v Value) error {
	if v.Sum != v.sum() {
		return fmt.Errorf("selfcheck: torn or mixed value for %q (writer %q, seq %d)", key, v.Writer, v.Seq)
	}
	for i := range v.Pad {
		if v.Pad[i] != byte(uint64(i)*31+v.Seq+uint64(len(v.Key))) {
			return fmt.Errorf("selfcheck: padding of %q damaged at byte %d", key, i)
		}
	}
	if v.Key != key {
		return fmt.Errorf("%w: found %q under %q", ErrForeign, v.Key, key)
	}
	return nil
}
