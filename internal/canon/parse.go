package canon

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// decoder parses canonical text.
type decoder struct {
	data  []byte
	pos   int    // offset of the next byte to parse
	buf   []byte // contents of the last string literal that had escapes
	check []byte // scratch space for re-encoding a value
}

// errorAt returns an error about the input at offset off.
func (d *decoder) errorAt(off int, format string, args ...any) error {
	return fmt.Errorf("canon: offset %d: %s", off, fmt.Sprintf(format, args...))
}

// errorf returns an error about the input at the current offset.
func (d *decoder) errorf(format string, args ...any) error {
	return d.errorAt(d.pos, format, args...)
}

// tooDeep returns the error for too deeply nested input.
func (d *decoder) tooDeep() error {
	return d.errorf("nested more than %d levels deep", maxDepth)
}

// mismatch returns the error for a value that cannot be decoded into type t.
func (d *decoder) mismatch(t reflect.Type) error {
	return d.errorf("cannot decode %s into %v", d.describe(), t)
}

// end checks that the whole input has been consumed.
func (d *decoder) end() error {
	if d.pos != len(d.data) {
		return d.errorf("unexpected %s after the value", d.describe())
	}
	return nil
}

// peek returns the next byte, or 0 at the end of the input.
func (d *decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// describe names what the input holds at the current offset.
func (d *decoder) describe() string {
	switch c := d.peek(); {
	case d.pos >= len(d.data):
		return "end of input"
	case d.startsWith("null"):
		return "null"
	case d.startsWith("true") || d.startsWith("false"):
		return "boolean"
	case c == '"':
		return "string"
	case c == '[':
		return "array"
	case c == '{':
		return "object"
	case c == '-' || '0' <= c && c <= '9':
		return "number"
	default:
		return fmt.Sprintf("byte %q", c)
	}
}

// startsWith reports whether the input continues with lit.
func (d *decoder) startsWith(lit string) bool {
	return len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit
}

// literal consumes lit if the input continues with it.
func (d *decoder) literal(lit string) bool {
	if d.startsWith(lit) {
		d.pos += len(lit)
		return true
	}
	return false
}

// startsNumber reports whether a number literal may start with c.
func startsNumber(c byte) bool {
	return c == '-' || '0' <= c && c <= '9'
}

// number consumes a number literal and reports whether it is a float.
func (d *decoder) number() (lit []byte, isFloat bool, err error) {
	end := d.pos
	for end < len(d.data) && isNumberByte(d.data[end]) {
		end++
	}
	lit = d.data[d.pos:end]
	isFloat, ok := checkNumber(lit)
	if !ok {
		return nil, false, d.errorf("invalid or non-canonical number %q", lit)
	}
	d.pos = end
	return lit, isFloat, nil
}

// float returns the value of number literal lit, which starts at offset off,
// as a float of the given bit size. A float literal must be the canonical
// form of its value.
func (d *decoder) float(lit []byte, isFloat bool, bits, off int) (float64, error) {
	f, err := strconv.ParseFloat(string(lit), bits)
	if err != nil {
		return 0, d.errorAt(off, "%s is out of range for float%d", lit, bits)
	}
	if isFloat {
		d.check, _ = appendFloat(d.check[:0], f, bits)
		if !bytes.Equal(d.check, lit) {
			return 0, d.errorAt(off, "%s is not the canonical form of a float%d (%s)", lit, bits, d.check)
		}
	}
	return f, nil
}

// str consumes a canonical string literal and returns its contents, which
// alias d.data if the literal has no escapes and d.buf otherwise.
func (d *decoder) str() ([]byte, error) {
	data := d.data
	if d.peek() != '"' {
		return nil, d.errorf("expected string, found %s", d.describe())
	}
	open := d.pos
	start := open + 1 // of the bytes not yet copied to out
	var out []byte
	escaped, surrogates := false, false
	for i := start; ; {
		if i >= len(data) {
			return nil, d.errorAt(open, "unterminated string")
		}
		switch c := data[i]; {
		case c == '"':
			d.pos = i + 1
			if !escaped {
				return data[start:i], nil
			}
			out = append(out, data[start:i]...)
			d.buf = out
			if surrogates {
				// \udcXX escapes must stand for bytes that are not valid
				// UTF-8 in context, as the encoder writes them.
				d.check = appendString(d.check[:0], bytesString(out))
				if !bytes.Equal(d.check, data[open:d.pos]) {
					return nil, d.errorAt(open, "non-canonical string: \\udcXX escapes of bytes that form valid UTF-8")
				}
			}
			return out, nil
		case c == '\\':
			b, n, surrogate := parseEscape(data[i:])
			if n == 0 {
				return nil, d.errorAt(i, "invalid or non-canonical escape in string")
			}
			if !escaped {
				out = d.buf[:0]
				escaped = true
			}
			out = append(out, data[start:i]...)
			out = append(out, b)
			surrogates = surrogates || surrogate
			i += n
			start = i
		case c < 0x20 || c == 0x7f:
			return nil, d.errorAt(i, "unescaped control character %q in string", c)
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				return nil, d.errorAt(i, "invalid UTF-8 byte %#x in string (must be written as \\udc%02x)", c, c)
			}
			i += size
		}
	}
}

// array consumes an array, calling elem to consume each element. depth is
// the depth of the array's parent; elem gets the array's.
func (d *decoder) array(depth int, elem func(depth int) error) error {
	if depth+1 > maxDepth {
		return d.tooDeep()
	}
	d.pos++ // [
	if d.peek() == ']' {
		d.pos++
		return nil
	}
	for {
		if err := elem(depth + 1); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return nil
		default:
			return d.errorf("expected ',' or ']' after array element, found %s", d.describe())
		}
	}
}

// object consumes an object, calling member to consume each member's value.
// member gets the key's literal (quotes included), its contents, and the
// object's depth; depth is the depth of the object's parent.
func (d *decoder) object(depth int, member func(raw, key []byte, depth int) error) error {
	if depth+1 > maxDepth {
		return d.tooDeep()
	}
	d.pos++ // {
	if d.peek() == '}' {
		d.pos++
		return nil
	}
	for {
		start := d.pos
		key, err := d.str()
		if err != nil {
			return err
		}
		raw := d.data[start:d.pos]
		if d.peek() != ':' {
			return d.errorf("expected ':' after object key, found %s", d.describe())
		}
		d.pos++
		if err := member(raw, key, depth+1); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return nil
		default:
			return d.errorf("expected ',' or '}' after object member, found %s", d.describe())
		}
	}
}

// sortedKeys returns a member check for objects that encode maps: their keys
// must be in strictly increasing order of their literals' contents. off is
// the offset of the key's opening quote.
func sortedKeys() func(raw []byte, off int, d *decoder) error {
	var prev []byte
	return func(raw []byte, off int, d *decoder) error {
		key := raw[1 : len(raw)-1]
		if prev != nil && bytes.Compare(prev, key) >= 0 {
			return d.errorAt(off, "object key %s is out of order or repeated (map keys must be sorted)", raw)
		}
		prev = key
		return nil
	}
}
