package main

import (
	"encoding/binary"
	"fmt"
)

// The workload is defined by a few pure functions, mirrored exactly by the
// Python driver (python/diskcache_worker.py), so every store sees the same
// keys, values and order.

// keyOf is the key of entry i. missKeyOf names keys that are never written.
func keyOf(i int) string     { return fmt.Sprintf("k%09d", i) }
func missKeyOf(i int) string { return fmt.Sprintf("m%09d", i) }

// batchKeyOf names the entries of the batch rows, apart from the others.
func batchKeyOf(i int) string { return fmt.Sprintf("b%09d", i) }

// fillByte is the content of every value byte past the 8-byte stamp.
func fillByte(j int) byte { return byte(j*31 + 7) }

// fillBlock is fillByte's pattern, which repeats every 256 bytes.
var fillBlock = func() (b [256]byte) {
	for j := range b {
		b[j] = fillByte(j)
	}
	return b
}()

// newValue returns a value buffer of size bytes, stamped for entry 0.
func newValue(size int) []byte {
	v := make([]byte, size)
	for j := 0; j < size; j += len(fillBlock) {
		copy(v[j:], fillBlock[:])
	}
	return v
}

// stamp makes buf the value of entry i: its first 8 bytes hold i, little
// endian (fewer for values under 8 bytes).
func stamp(buf []byte, i int) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	copy(buf, b[:])
}

// valueOf returns a fresh value for entry i.
func valueOf(i, size int) []byte {
	v := newValue(size)
	stamp(v, i)
	return v
}

// check reports whether v is entry i's value of the given size: its length,
// stamp and last byte. It is cheap enough to run after every timed read.
func check(v []byte, i, size int) bool {
	if len(v) != size {
		return false
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	n := min(8, size)
	if string(v[:n]) != string(b[:n]) {
		return false
	}
	return size <= 8 || v[size-1] == fillByte(size-1)
}

// permStep is the stride of the permutation that spreads operations over
// the key space.
func permStep(n int) int {
	for _, s := range []int{7919, 7907, 7901} {
		if gcd(s, n) == 1 {
			return s
		}
	}
	return 1
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// perm maps the j-th operation to an entry index in [0, n): a fixed
// permutation, so reads and writes hit the key space out of order.
func perm(j, n int) int { return int((int64(j)*int64(permStep(n)) + 13) % int64(n)) }

// share returns the operation numbers in [0, count) that worker w of
// workers performs: every workers-th one, starting at w.
func share(count, w, workers int) []int {
	var js []int
	for j := w; j < count; j += workers {
		js = append(js, j)
	}
	return js
}
