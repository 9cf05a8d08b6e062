// The entry file: a self-validating record of one key and its value.
//
// An entry file is a fixed header, the codec's name, the canonical key bytes
// and the encoded value; docs/format.md describes it byte by byte. Every way
// a file can be damaged has a named Reason, reported as a *DamageError, so
// callers treat any damage as a miss and count it. Nothing here panics,
// whatever bytes it is given.

package shard

import (
	"encoding/binary"
	"slices"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Magic opens every entry file.
const Magic = "BKTC"

// Version is the format version written into new entries. Readers reject
// every other version as damage.
const Version = 1

// HeaderSize is the size of the fixed header in bytes.
const HeaderSize = 56

// MaxCodecName is the longest codec name an entry can record.
const MaxCodecName = 255

// MaxKey is the longest canonical key an entry can record (its length is a
// 32-bit field).
const MaxKey = 1<<32 - 1

// Offsets of the header fields. All integers are little-endian.
const (
	offMagic     = 0  // [4]byte "BKTC"
	offVersion   = 4  // uint16
	offCodecLen  = 6  // uint8, 1..255
	offReserved  = 7  // uint8, 0
	offWrittenAt = 8  // int64 Unix nanoseconds
	offExpiresAt = 16 // int64 Unix nanoseconds, 0: never
	offKeyLen    = 24 // uint32
	offReserved2 = 28 // uint32, 0
	offValueLen  = 32 // uint64
	offBodySum   = 40 // uint64 xxhash64 of everything after the header
	offHeaderSum = 48 // uint64 xxhash64 of bytes 0..47
)

// Header is the decoded fixed part of an entry, plus the codec name.
type Header struct {
	Codec     string
	WrittenAt int64 // Unix nanoseconds
	ExpiresAt int64 // Unix nanoseconds; 0 means the entry never expires
	KeyLen    uint32
	ValueLen  uint64
	BodySum   uint64
}

// Size is the exact size in bytes of a well-formed file with this header.
func (h Header) Size() int64 {
	return HeaderSize + int64(len(h.Codec)) + int64(h.KeyLen) + int64(h.ValueLen)
}

// KeyOffset is the offset of the key bytes in the file.
func (h Header) KeyOffset() int64 { return HeaderSize + int64(len(h.Codec)) }

// ValueOffset is the offset of the value bytes in the file.
func (h Header) ValueOffset() int64 { return h.KeyOffset() + int64(h.KeyLen) }

// Expired reports whether the entry's own stored expiry has passed at now.
// At the exact instant of expiry the entry is still live.
func (h Header) Expired(now time.Time) bool {
	return h.ExpiresAt != 0 && now.UnixNano() > h.ExpiresAt
}

// OlderThan reports whether the entry was written more than maxAge before now.
// A maxAge of 0 means no limit.
func (h Header) OlderThan(maxAge time.Duration, now time.Time) bool {
	return maxAge > 0 && now.UnixNano()-h.WrittenAt > int64(maxAge)
}

// Entry is a fully decoded and verified entry. Key and Value alias the buffer
// given to Decode.
type Entry struct {
	Header
	Key   []byte
	Value []byte
}

// Append appends the encoding of an entry to dst and returns the result.
// expiresAt of 0 means never.
func Append(dst []byte, codec string, writtenAt, expiresAt int64, key, value []byte) []byte {
	dst = slices.Grow(dst, HeaderSize+len(codec)+len(key)+len(value))
	dst = AppendHead(dst, codec, writtenAt, expiresAt, key, value)
	return append(dst, value...)
}

// AppendHead appends all of an entry's encoding that comes before the value
// (the header, whose checksums cover value too, the codec's name and the key)
// and returns the result: the entry is that followed by value. A writer of a
// large value writes the two pieces one after the other, without copying the
// value into one buffer.
func AppendHead(dst []byte, codec string, writtenAt, expiresAt int64, key, value []byte) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, HeaderSize)...)
	dst = append(dst, codec...)
	dst = append(dst, key...)
	var body xxhash.Digest
	body.Reset()
	body.Write(dst[start+HeaderSize:])
	body.Write(value)
	h := dst[start : start+HeaderSize]
	copy(h[offMagic:], Magic)
	binary.LittleEndian.PutUint16(h[offVersion:], Version)
	h[offCodecLen] = byte(len(codec))
	binary.LittleEndian.PutUint64(h[offWrittenAt:], uint64(writtenAt))
	binary.LittleEndian.PutUint64(h[offExpiresAt:], uint64(expiresAt))
	binary.LittleEndian.PutUint32(h[offKeyLen:], uint32(len(key)))
	binary.LittleEndian.PutUint64(h[offValueLen:], uint64(len(value)))
	binary.LittleEndian.PutUint64(h[offBodySum:], body.Sum64())
	binary.LittleEndian.PutUint64(h[offHeaderSum:], xxhash.Sum64(h[:offHeaderSum]))
	return dst
}

// HeadOf returns the header and the key recorded in head, the start of an
// entry as Append or AppendHead made it: a writer's own bytes, not a file
// (files are read with ReadEntry). The key aliases head.
func HeadOf(head []byte) (Header, []byte) {
	h, _ := parseHeader(head)
	ko, vo := h.KeyOffset(), h.ValueOffset()
	return h, head[ko:vo:vo]
}

// Check reports whether codec, key and value can be recorded in an entry.
func Check(codec string, key []byte) error {
	if len(codec) == 0 || len(codec) > MaxCodecName {
		return errCodecName
	}
	if uint64(len(key)) > MaxKey {
		return errKeyTooLong
	}
	return nil
}

// parseHeader decodes and verifies the fixed header and the codec name at the
// start of b (b needs HeaderSize+255 bytes at most; fewer is fine when the
// file is that short). It does not look at the key or the value, so it is what
// Prune and listings use: the expiry it returns is protected by the header
// checksum.
func parseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, damage(ReasonShort)
	}
	if string(b[offMagic:offMagic+4]) != Magic {
		return Header{}, damage(ReasonMagic)
	}
	if xxhash.Sum64(b[:offHeaderSum]) != binary.LittleEndian.Uint64(b[offHeaderSum:]) {
		return Header{}, damage(ReasonHeaderSum)
	}
	if v := binary.LittleEndian.Uint16(b[offVersion:]); v != Version {
		return Header{}, damage(ReasonVersion)
	}
	n := int(b[offCodecLen])
	if n == 0 || b[offReserved] != 0 || binary.LittleEndian.Uint32(b[offReserved2:]) != 0 {
		return Header{}, damage(ReasonHeaderField)
	}
	if len(b) < HeaderSize+n {
		return Header{}, damage(ReasonShort)
	}
	h := Header{
		Codec:     codecName(b[HeaderSize : HeaderSize+n]),
		WrittenAt: int64(binary.LittleEndian.Uint64(b[offWrittenAt:])),
		ExpiresAt: int64(binary.LittleEndian.Uint64(b[offExpiresAt:])),
		KeyLen:    binary.LittleEndian.Uint32(b[offKeyLen:]),
		ValueLen:  binary.LittleEndian.Uint64(b[offValueLen:]),
		BodySum:   binary.LittleEndian.Uint64(b[offBodySum:]),
	}
	if h.ValueLen > 1<<62 {
		return Header{}, damage(ReasonHeaderField)
	}
	return h, nil
}

// codecName returns b as a string, without allocating for the built-in
// codecs' names, which nearly every entry has.
func codecName(b []byte) string {
	for _, name := range [...]string{"json", "raw", "msgpack", "gob"} {
		if string(b) == name {
			return name
		}
	}
	return string(b)
}
