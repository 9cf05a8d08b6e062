package shard

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// DefaultCount is the shard count of a new bucket when none is asked for.
const DefaultCount = 256

// MaxCount is the largest shard count a bucket can have.
const MaxCount = 1 << 16

// EntrySuffix ends the name of every entry file.
const EntrySuffix = ".bc"

// TempPrefix starts the name of every temporary file; such a file is an entry
// being written, or one abandoned by a crash.
const TempPrefix = ".tmp-"

// LockName is the name of each shard's lock file.
const LockName = "lock"

// Layout is how a bucket's entries are spread over shard directories.
// The zero Layout is not usable; get one from Open or New.
type Layout struct {
	count int
	width int // hex digits in a shard directory's name
}

// New returns the layout for count shards (1..MaxCount).
func New(count int) (Layout, error) {
	if count < 1 || count > MaxCount {
		return Layout{}, fmt.Errorf("shard: count %d out of range 1..%d", count, MaxCount)
	}
	w := 1
	for 1<<(4*w) < count {
		w++
	}
	if w < 2 {
		w = 2
	}
	return Layout{count: count, width: w}, nil
}

// Count is the number of shards.
func (l Layout) Count() int { return l.count }

// Hash is the 64-bit hash of canonical key bytes.
func Hash(key []byte) uint64 { return xxhash.Sum64(key) }

// Index is the shard that holds the entry whose key hashes to h.
func (l Layout) Index(h uint64) int { return int(h % uint64(l.count)) }

// DirName is the name of shard i's directory inside the bucket directory.
func (l Layout) DirName(i int) string {
	s := strconv.FormatUint(uint64(i), 16)
	return strings.Repeat("0", l.width-len(s)) + s
}

// EntryName is the file name, inside its shard directory, of the entry whose
// key hashes to h.
func EntryName(h uint64) string {
	var b [16 + len(EntrySuffix)]byte
	return string(appendEntryName(b[:0], h))
}

// appendEntryName appends EntryName(h) to dst.
func appendEntryName(dst []byte, h uint64) []byte {
	const digits = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		dst = append(dst, digits[h>>uint(shift)&0xf])
	}
	return append(dst, EntrySuffix...)
}

// EntryPath is the entry's path relative to the bucket directory.
func (l Layout) EntryPath(h uint64) string {
	var b [64]byte
	dst := strconv.AppendUint(b[:0], uint64(l.Index(h)), 16)
	if pad := l.width - len(dst); pad > 0 { // zero-padded as DirName is
		dst = append(dst[:0], "0000000000000000"[:pad]...)
		dst = strconv.AppendUint(dst, uint64(l.Index(h)), 16)
	}
	dst = append(dst, '/')
	return string(appendEntryName(dst, h))
}

// ParseEntryName returns the hash an entry file name encodes, and whether
// name is an entry file name at all.
func ParseEntryName(name string) (uint64, bool) {
	hex, ok := strings.CutSuffix(name, EntrySuffix)
	if !ok || len(hex) != 16 {
		return 0, false
	}
	h, err := strconv.ParseUint(hex, 16, 64)
	if err != nil || EntryName(h) != name {
		return 0, false
	}
	return h, true
}

// ParseDirName returns the shard index a directory name encodes in this
// layout, and whether name is one of its shard directories.
func (l Layout) ParseDirName(name string) (int, bool) {
	if len(name) != l.width {
		return 0, false
	}
	i, err := strconv.ParseUint(name, 16, 32)
	if err != nil || int(i) >= l.count || l.DirName(int(i)) != name {
		return 0, false
	}
	return int(i), true
}

// KeyLockSuffix ends the name of each per-key lock file.
const KeyLockSuffix = ".keylock"

// KeyLockName is the name, inside its shard directory, of the lock file that
// guards work on the single key hashing to h (memoized computations).
func KeyLockName(h uint64) string {
	return strings.TrimSuffix(EntryName(h), EntrySuffix) + KeyLockSuffix
}

// IsKeyLockName reports whether name is a per-key lock file's name, exactly
// as KeyLockName makes it.
func IsKeyLockName(name string) bool {
	hex, ok := strings.CutSuffix(name, KeyLockSuffix)
	_, entry := ParseEntryName(hex + EntrySuffix)
	return ok && entry
}

// TempName is the name of a temporary file in which process pid writes,
// as its seq-th write, a new version of the entry file for hash h.
func TempName(h uint64, pid int, seq uint64) string {
	return TempPrefix + EntryName(h) + "." + strconv.Itoa(pid) + "." + strconv.FormatUint(seq, 10)
}

// IsTempName reports whether name is a temporary file's name exactly as
// TempName makes it. Nothing else is ever removed as a temporary file, so a
// file of another program's that merely starts with TempPrefix is safe.
func IsTempName(name string) bool {
	rest, ok := strings.CutPrefix(name, TempPrefix)
	if !ok || len(rest) < 16+len(EntrySuffix) {
		return false
	}
	if _, ok := ParseEntryName(rest[:16+len(EntrySuffix)]); !ok {
		return false
	}
	tail, ok := strings.CutPrefix(rest[16+len(EntrySuffix):], ".")
	pid, seq, found := strings.Cut(tail, ".")
	return ok && found && isDigits(pid) && isDigits(seq)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
