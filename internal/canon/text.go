package canon

import (
	"unicode/utf8"
	"unsafe"
)

const hexDigits = "0123456789abcdef"

// plain reports for each byte whether it stands for itself in a string
// literal: printable ASCII other than '"' and '\\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString appends the canonical JSON string literal of s to dst.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0 // of the bytes not yet appended
	for i := 0; ; {
		for i < len(s) && plain[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			if c < utf8.RuneSelf {
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			} else {
				// A byte that is not part of valid UTF-8: surrogate escape.
				dst = append(dst, '\\', 'u', 'd', 'c', hexDigits[c>>4], hexDigits[c&0xf])
			}
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// bytesString returns b as a string without copying; b must not be modified
// while the string is in use.
func bytesString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// parseEscape parses the canonical escape sequence at the start of s (which
// begins with a backslash) and returns the byte it stands for and its length.
// surrogate reports a \udcXX escape of a byte that is not valid UTF-8. n is 0
// if s does not start with a canonical escape.
func parseEscape(s []byte) (b byte, n int, surrogate bool) {
	if len(s) < 2 {
		return 0, 0, false
	}
	switch s[1] {
	case '"', '\\':
		return s[1], 2, false
	case 'b':
		return '\b', 2, false
	case 'f':
		return '\f', 2, false
	case 'n':
		return '\n', 2, false
	case 'r':
		return '\r', 2, false
	case 't':
		return '\t', 2, false
	case 'u':
	default:
		return 0, 0, false
	}
	if len(s) < 6 {
		return 0, 0, false
	}
	var x rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			x = x<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			x = x<<4 | rune(c-'a'+10)
		default:
			return 0, 0, false
		}
	}
	switch {
	case x == '\b' || x == '\f' || x == '\n' || x == '\r' || x == '\t':
		return 0, 0, false // these have short escapes
	case x < 0x20 || x == 0x7f:
		return byte(x), 6, false
	case 0xdc80 <= x && x <= 0xdcff:
		return byte(x), 6, true
	}
	return 0, 0, false
}
