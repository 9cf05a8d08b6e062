package view

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bucketcache/bucketcache/internal/canon"
	"github.com/bucketcache/bucketcache/shard"
)

// MaxName is the longest file name Name returns, in bytes (NAME_MAX).
const MaxName = 255

// KeyMarker starts the name of every entry whose key is not shown as a plain
// string: the rest of the name is the key's stored bytes (its compact JSON
// text), escaped.
const KeyMarker = '='

// ShortMark separates the kept prefix of a shortened name from the entry's
// 16-hex-digit hash.
const ShortMark = '~'

// shortPrefix is the most bytes of the full name a shortened name keeps.
const shortPrefix = MaxName - 1 - 16

// Name returns the file name under which the view shows the entry whose
// canonical key bytes are key. See the package documentation for the rule.
// Distinct keys get distinct names, and every name is a valid file name:
// 1 to 255 bytes of valid UTF-8, without '/', NUL or other control
// characters, and never "." or "..".
func Name(key []byte) string {
	name := fullName(key)
	if len(name) <= MaxName {
		return name
	}
	return name[:cutPoint(name, shortPrefix)] + string(ShortMark) + hex16(shard.Hash(key))
}

// fullName is the name before shortening.
func fullName(key []byte) string {
	var b strings.Builder
	if s, ok := canon.String(key); ok && s != "" && s != "." && s != ".." {
		b.Grow(len(s))
		if s[0] == KeyMarker {
			b.WriteString("%3D")
			s = s[1:]
		}
		escape(&b, s)
	} else {
		b.Grow(len(key) + 1)
		b.WriteByte(KeyMarker)
		escape(&b, string(key))
	}
	name := b.String()
	if looksShortened(name) {
		// Only shortened names end in "~" and 16 hex digits.
		i := len(name) - 17
		name = name[:i] + "%7E" + name[i+1:]
	}
	return name
}

// escape writes s to b, with every byte of '%', '/', control characters
// (C0, DEL, C1) and bytes that are not part of valid UTF-8 written as %XX.
func escape(b *strings.Builder, s string) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f || c == '%' || c == '/' {
				pct(b, c)
			} else {
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || unicode.IsControl(r) {
			for j := 0; j < size; j++ {
				pct(b, s[i+j])
			}
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
}

const upperHex = "0123456789ABCDEF"

func pct(b *strings.Builder, c byte) {
	b.WriteByte('%')
	b.WriteByte(upperHex[c>>4])
	b.WriteByte(upperHex[c&0xf])
}

// unescape reverses escape. It reports false for a '%' that does not start
// a %XX escape with uppercase hex digits.
func unescape(s string) ([]byte, bool) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			out = append(out, c)
			continue
		}
		if i+2 >= len(s) {
			return nil, false
		}
		hi, lo := unhex(s[i+1]), unhex(s[i+2])
		if hi < 0 || lo < 0 {
			return nil, false
		}
		out = append(out, byte(hi<<4|lo))
		i += 2
	}
	return out, true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// looksShortened reports whether name ends in ShortMark and 16 lowercase
// hex digits.
func looksShortened(name string) bool {
	if len(name) < 17 || name[len(name)-17] != ShortMark {
		return false
	}
	for _, c := range []byte(name[len(name)-16:]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// cutPoint returns the largest n <= max such that name[:n] ends neither
// inside a UTF-8 sequence nor inside a %XX escape.
func cutPoint(name string, max int) int {
	n := max
	for n > 0 && !utf8.RuneStart(name[n]) {
		n--
	}
	// A '%' in the two bytes before the cut starts an escape it would split.
	for _, back := range []int{1, 2} {
		if n-back >= 0 && name[n-back] == '%' {
			n -= back
			break
		}
	}
	return n
}

func hex16(h uint64) string {
	s := strconv.FormatUint(h, 16)
	return strings.Repeat("0", 16-len(s)) + s
}

// Parsed is what a file name says about the entry it shows.
type Parsed struct {
	// Key is the entry's canonical key bytes; nil for a shortened name.
	Key []byte
	// Hash is the entry's key hash, which names its file.
	Hash uint64
	// Short reports a shortened name: only the entry whose key hashes to
	// Hash, and whose Name is exactly this name, has it.
	Short bool
}

// ParseName reverses Name: it returns the key (or, for a shortened name, the
// hash) of the only entry that can have this name, and false for a name
// that Name never returns.
func ParseName(name string) (Parsed, bool) {
	if name == "" || len(name) > MaxName {
		return Parsed{}, false
	}
	if looksShortened(name) {
		h, err := strconv.ParseUint(name[len(name)-16:], 16, 64)
		if err != nil || len(name) <= 17 {
			return Parsed{}, false
		}
		return Parsed{Hash: h, Short: true}, true
	}
	var key []byte
	if name[0] == KeyMarker {
		k, ok := unescape(name[1:])
		if !ok {
			return Parsed{}, false
		}
		key = k
	} else {
		s, ok := unescape(name)
		if !ok {
			return Parsed{}, false
		}
		key, _ = canon.AppendMarshal(nil, s)
	}
	if fullName(key) != name { // not the one spelling Name gives
		return Parsed{}, false
	}
	return Parsed{Key: key, Hash: shard.Hash(key)}, true
}
