package canon

import (
	"bytes"
	"slices"
)

// String reports whether data is the canonical encoding of a string (or of a
// []byte, or of a value whose MarshalText returns text), and if so returns
// that string's exact bytes, with invalid UTF-8 restored from its \udcXX
// escapes.
func String(data []byte) (s string, ok bool) {
	d := decoder{data: data}
	b, err := d.str()
	if err != nil || d.pos != len(data) {
		return "", false
	}
	return string(b), true
}

// Valid reports whether data is well-formed canonical text: a single value
// in the canonical syntax, without whitespace, with no object key repeated
// and at most 10000 arrays and objects deep. Valid cannot know the Go type
// the text encodes, so it does not check the order of object keys or that a
// float literal is the shortest form of its value; Unmarshal does.
func Valid(data []byte) bool {
	d := decoder{data: data}
	return d.skip(0) == nil && d.pos == len(data)
}

// anyValue decodes a value found at the given depth into the types an
// empty interface gets: nil, bool, int64 or uint64, float64, string, []any
// or map[string]any.
func (d *decoder) anyValue(depth int) (any, error) {
	switch c := d.peek(); {
	case c == 'n' && d.literal("null"):
		return nil, nil
	case c == 't' && d.literal("true"):
		return true, nil
	case c == 'f' && d.literal("false"):
		return false, nil
	case c == '"':
		s, err := d.str()
		return string(s), err
	case startsNumber(c):
		off := d.pos
		lit, isFloat, err := d.number()
		if err != nil {
			return nil, err
		}
		if isFloat {
			return d.float(lit, true, 64, off)
		}
		neg, mag, ok := parseInteger(lit)
		switch {
		case ok && neg && mag <= 1<<63:
			return -int64(mag), nil
		case ok && !neg && mag <= 1<<63-1:
			return int64(mag), nil
		case ok && !neg:
			return mag, nil
		}
		return nil, d.errorAt(off, "integer %s does not fit in an int64 or uint64", lit)
	case c == '[':
		a := []any{}
		err := d.array(depth, func(depth int) error {
			x, err := d.anyValue(depth)
			a = append(a, x)
			return err
		})
		return a, err
	case c == '{':
		m := map[string]any{}
		sorted := sortedKeys()
		err := d.object(depth, func(raw, key []byte, depth int) error {
			if err := sorted(raw, d.pos-len(raw)-1, d); err != nil {
				return err
			}
			k := string(key)
			x, err := d.anyValue(depth)
			m[k] = x
			return err
		})
		return m, err
	}
	return nil, d.errorf("expected a value, found %s", d.describe())
}

// skip consumes a value found at the given depth, checking its syntax.
func (d *decoder) skip(depth int) error {
	switch c := d.peek(); {
	case c == 'n' && d.literal("null"),
		c == 't' && d.literal("true"),
		c == 'f' && d.literal("false"):
		return nil
	case c == '"':
		_, err := d.str()
		return err
	case startsNumber(c):
		_, _, err := d.number()
		return err
	case c == '[':
		return d.array(depth, d.skip)
	case c == '{':
		var keys [][]byte
		off := d.pos
		err := d.object(depth, func(raw, _ []byte, depth int) error {
			keys = append(keys, raw)
			return d.skip(depth)
		})
		if err != nil {
			return err
		}
		slices.SortFunc(keys, bytes.Compare)
		for i := 1; i < len(keys); i++ {
			if bytes.Equal(keys[i-1], keys[i]) {
				return d.errorAt(off, "object key %s repeated", keys[i])
			}
		}
		return nil
	}
	return d.errorf("expected a value, found %s", d.describe())
}
