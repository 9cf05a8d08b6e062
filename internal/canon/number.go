package canon

import (
	"math"
	"strconv"
)

// appendFloat appends the canonical form of f, a float of the given bit
// size, to dst. It returns why f has no canonical form if f is NaN or
// infinite.
func appendFloat(dst []byte, f float64, bits int) ([]byte, string) {
	switch {
	case math.IsNaN(f):
		return dst, "NaN has no canonical form"
	case math.IsInf(f, 0):
		return dst, "infinities have no canonical form"
	case f == 0:
		return append(dst, "0.0"...), "" // -0 == 0, so it must encode alike
	}
	abs := math.Abs(f)
	format := byte('f')
	if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
		format = 'e'
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// Drop the exponent's leading zero: 1e-07 becomes 1e-7.
		if n := len(dst); dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
		return dst, ""
	}
	for _, c := range dst[start:] {
		if c == '.' {
			return dst, ""
		}
	}
	return append(dst, ".0"...), ""
}

// isNumberByte reports whether c can occur in a number literal.
func isNumberByte(c byte) bool {
	return '0' <= c && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e'
}

// checkNumber reports whether lit is a canonical number literal and whether
// it is a float literal. It checks the syntax only: a float literal may still
// not be the shortest form of the value it denotes.
func checkNumber(lit []byte) (isFloat, ok bool) {
	s := lit
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	intPart := digits(s)
	if len(intPart) == 0 || len(intPart) > 1 && intPart[0] == '0' {
		return false, false
	}
	s = s[len(intPart):]
	if len(s) == 0 {
		return false, !(neg && intPart[0] == '0') // no -0
	}
	var frac []byte
	if s[0] == '.' {
		frac = digits(s[1:])
		if len(frac) == 0 {
			return true, false
		}
		s = s[1+len(frac):]
	}
	if len(s) == 0 {
		// Fixed notation for 1e-6 <= |x| < 1e21, or 0.0.
		if len(frac) > 1 && frac[len(frac)-1] == '0' || len(intPart) > 21 {
			return true, false
		}
		if intPart[0] != '0' {
			return true, true
		}
		if string(frac) == "0" {
			return true, !neg
		}
		zeros := 0
		for zeros < len(frac) && frac[zeros] == '0' {
			zeros++
		}
		return true, zeros <= 5
	}
	// Exponent notation d[.ddd]e±X for |x| < 1e-6 or |x| >= 1e21.
	if s[0] != 'e' || len(s) < 3 || (s[1] != '+' && s[1] != '-') {
		return true, false
	}
	exp := digits(s[2:])
	if len(exp) != len(s)-2 || len(exp) == 0 || exp[0] == '0' || len(intPart) != 1 || intPart[0] == '0' ||
		len(frac) > 0 && frac[len(frac)-1] == '0' {
		return true, false
	}
	if len(exp) > 3 {
		return true, false // float64 exponents have at most 3 digits
	}
	e := 0
	for _, c := range exp {
		e = e*10 + int(c-'0')
	}
	if s[1] == '+' {
		return true, e >= 21
	}
	return true, e >= 7
}

// digits returns the leading decimal digits of s.
func digits(s []byte) []byte {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// parseInteger returns the sign and magnitude of lit, a canonical integer
// literal; ok is false if the magnitude does not fit in a uint64.
func parseInteger(lit []byte) (neg bool, mag uint64, ok bool) {
	if len(lit) > 0 && lit[0] == '-' {
		neg = true
		lit = lit[1:]
	}
	for _, c := range lit {
		d := uint64(c - '0')
		if mag > (math.MaxUint64-d)/10 {
			return neg, 0, false
		}
		mag = mag*10 + d
	}
	return neg, mag, true
}
