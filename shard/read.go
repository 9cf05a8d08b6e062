package shard

import (
	"bytes"
	"errors"
	"io"

	"github.com/cespare/xxhash/v2"
)

// Depth says how much of an entry file ReadEntry reads and checks.
type Depth int

const (
	// Head reads and checks the header, the codec's name and the key: what
	// a listing or a prune needs. The value is not read, so the body
	// checksum, which covers it, is not checked.
	Head Depth = iota
	// Checked also streams the value through the body checksum, keeping
	// none of it in memory: what a verification needs.
	Checked
	// Whole also reads the value into memory: what a Get needs.
	Whole
)

// headRead is what ReadEntry's first read asks for: the header, the codec's name
// and, for most keys, the key. An entry file of up to this size (a small
// value, the usual case) is read whole by that one read.
const headRead = 4096

// wholeRead is the largest file a Whole read reads by its first read: the
// value is wanted anyway, so a file of up to this size (a real size, not a
// declared one) costs one read and one allocation.
const wholeRead = 64 << 10

// streamChunk is how much of a value a Checked read holds at a time, and
// how much more memory a Whole read of a very large value commits before the
// bytes to fill it have been read.
const streamChunk = 256 << 10

// bigValue is the largest value a Whole read allocates at once. A larger one
// is read in growing pieces, so that memory follows the bytes the file
// really holds and a planted file whose forged header declares a huge value
// costs time, never a crash.
const bigValue = 64 << 20

// ReadEntry reads the entry file r, which is size bytes long, as deep as depth
// says, and checks what it reads. It is the only reader of the format:
// every Get, listing, prune, verification and view goes through it, so they
// all agree on what is damaged and why. It reads in this order:
//
//  1. the header, by one read of at most 4 KiB (a file that small is read
//     whole by it; for depth Whole, of at most 64 KiB); a file that does not start with the magic, whatever its
//     length, is ReasonMagic: not an entry file, and not the format's to
//     remove (see Reason.Foreign);
//  2. the lengths the header declares, against size, before anything is
//     allocated for them: a file too short for them is ReasonShort and one
//     too long ReasonLong, so a huge file planted in an entry's place costs
//     one small read, whatever its size;
//  3. the key; with want non-nil, a key other than want is ReasonKey, found
//     before the value is read;
//  4. for Checked and Whole, the value, looping on short reads, and the body
//     checksum over the codec's name, the key and the value.
//
// Damage is reported as a *DamageError; any other error is r's own. A file
// that ends before size is ReasonShort. The returned Key and Value are the
// caller's own (for a small file they share one buffer); Value is nil unless
// depth is Whole.
func ReadEntry(r io.ReaderAt, size int64, depth Depth, want []byte) (Entry, error) {
	first := min(max(size, 0), headRead)
	if depth == Whole && size <= wholeRead {
		first = max(size, 0)
	}
	buf := make([]byte, first)
	if err := readFull(r, buf, 0); err != nil {
		return Entry{}, err
	}
	if !bytes.HasPrefix(buf, []byte(Magic)) {
		return Entry{}, damage(ReasonMagic) // not ours, whatever its length
	}
	h, err := parseHeader(buf)
	if err != nil {
		return Entry{}, err
	}
	switch n := h.Size(); {
	case n > size:
		return Entry{}, damage(ReasonShort)
	case n < size:
		return Entry{}, damage(ReasonLong)
	}
	e := Entry{Header: h}
	ko, vo := h.KeyOffset(), h.ValueOffset()
	if vo <= int64(len(buf)) {
		e.Key = buf[ko:vo:vo]
	} else {
		e.Key = make([]byte, h.KeyLen)
		copy(e.Key, buf[ko:])
		if err := readFull(r, e.Key[int64(len(buf))-ko:], int64(len(buf))); err != nil {
			return Entry{}, err
		}
	}
	if want != nil && !bytes.Equal(e.Key, want) {
		return Entry{}, damage(ReasonKey)
	}
	if depth == Head {
		return e, nil
	}
	var body xxhash.Digest
	body.Reset()
	body.Write(buf[HeaderSize:ko])
	body.Write(e.Key)
	switch {
	case size <= int64(len(buf)): // the whole file is in buf
		if depth == Whole {
			e.Value = buf[vo:size:size]
		}
		body.Write(buf[vo:size])
	case depth == Whole:
		if e.Value, err = readValue(r, vo, int64(h.ValueLen), &body); err != nil {
			return Entry{}, err
		}
	default:
		chunk := make([]byte, min(int64(h.ValueLen), streamChunk))
		for off := vo; off < size; {
			p := chunk[:min(int64(len(chunk)), size-off)]
			if err := readFull(r, p, off); err != nil {
				return Entry{}, err
			}
			body.Write(p)
			off += int64(len(p))
		}
	}
	if body.Sum64() != h.BodySum {
		return Entry{}, damage(ReasonBodySum)
	}
	return e, nil
}

// readValue reads the n bytes of a value at off into memory of its own,
// feeding them to body. A value of up to bigValue is read into one
// allocation; a larger one into a buffer that grows as its bytes arrive.
func readValue(r io.ReaderAt, off, n int64, body *xxhash.Digest) ([]byte, error) {
	if n <= bigValue {
		v := make([]byte, n)
		if err := readFull(r, v, off); err != nil {
			return nil, err
		}
		body.Write(v)
		return v, nil
	}
	v := make([]byte, 0, bigValue)
	for int64(len(v)) < n {
		if len(v) == cap(v) {
			v = append(v, make([]byte, min(int64(cap(v)), n-int64(len(v))))...)[:len(v)]
		}
		p := v[len(v):min(int64(cap(v)), n)]
		p = p[:min(len(p), streamChunk)]
		if err := readFull(r, p, off+int64(len(v))); err != nil {
			return nil, err
		}
		body.Write(p)
		v = v[:len(v)+len(p)]
	}
	return v, nil
}

// readFull fills p from r at off. A file that ends first is damage: it is
// shorter than the size it was opened with (it shrank under the reader).
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	switch {
	case n == len(p):
		return nil
	case err == nil, errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return damage(ReasonShort)
	}
	return err
}

// Decode reads an entry held whole in b: ReadEntry, with depth Whole, of a file
// whose bytes are b.
func Decode(b []byte) (Entry, error) {
	return ReadEntry(bytes.NewReader(b), int64(len(b)), Whole, nil)
}

// CheckPlace reports whether key, read from the entry file named for hash h
// in shard i's directory, belongs there: its hash must be h and pick shard
// i. A misplaced entry is ReasonKey damage: no Get can ever find it.
func (l Layout) CheckPlace(i int, h uint64, key []byte) error {
	if kh := Hash(key); kh != h || l.Index(kh) != i {
		return damage(ReasonKey)
	}
	return nil
}
