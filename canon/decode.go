package canon

import (
	"bytes"
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Unmarshal decodes the canonical bytes data into the value that ptr points
// to, which must be a non-nil pointer. See the package documentation for
// what each Go type accepts. Malformed or non-canonical input is an error.
func Unmarshal(data []byte, ptr any) error {
	rv := reflect.ValueOf(ptr)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("canon: Unmarshal needs a non-nil pointer, not %T", ptr)
	}
	d := decoder{data: data}
	if err := d.value(rv.Elem(), 0); err != nil {
		return err
	}
	return d.end()
}

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

// setInteger sets v, of an integer kind, to the value of the canonical
// integer literal lit. It reports false if the value does not fit.
func setInteger(v reflect.Value, lit []byte) bool {
	neg, mag, ok := parseInteger(lit)
	if !ok {
		return false
	}
	bits := v.Type().Bits()
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		limit := uint64(1) << (bits - 1)
		if neg && mag > limit || !neg && mag >= limit {
			return false
		}
		x := int64(mag)
		if neg {
			x = -x
		}
		v.SetInt(x)
	default:
		if neg || bits < 64 && mag >= 1<<bits {
			return false
		}
		v.SetUint(mag)
	}
	return true
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

// value decodes into v, which is settable and found at the given depth.
func (d *decoder) value(v reflect.Value, depth int) error {
	t := v.Type()
	switch t.Kind() {
	case reflect.Pointer:
		if d.literal("null") {
			v.SetZero()
			return nil
		}
		if depth+1 > maxDepth {
			return d.tooDeep()
		}
		p := reflect.New(t.Elem())
		if err := d.value(p.Elem(), depth+1); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Interface:
		if d.literal("null") {
			v.SetZero()
			return nil
		}
		if t.NumMethod() != 0 {
			return d.errorf("cannot decode into %v: only empty interfaces are supported", t)
		}
		x, err := d.anyValue(depth)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(x))
		return nil
	}
	info := infoOf(t)
	if info.marshal != noText {
		return d.text(v, info)
	}
	switch t.Kind() {
	case reflect.Bool:
		switch {
		case d.literal("true"):
			v.SetBool(true)
		case d.literal("false"):
			v.SetBool(false)
		default:
			return d.mismatch(t)
		}
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if !startsNumber(d.peek()) {
			return d.mismatch(t)
		}
		off := d.pos
		lit, isFloat, err := d.number()
		if err != nil {
			return err
		}
		if isFloat || !setInteger(v, lit) {
			return d.errorAt(off, "cannot decode %s into %v", lit, t)
		}
		return nil
	case reflect.Float32, reflect.Float64:
		if !startsNumber(d.peek()) {
			return d.mismatch(t)
		}
		off := d.pos
		lit, isFloat, err := d.number()
		if err != nil {
			return err
		}
		f, err := d.float(lit, isFloat, t.Bits(), off)
		if err != nil {
			return err
		}
		v.SetFloat(f)
		return nil
	case reflect.String:
		if d.peek() != '"' {
			return d.mismatch(t)
		}
		s, err := d.str()
		if err != nil {
			return err
		}
		v.SetString(string(s))
		return nil
	case reflect.Slice:
		return d.slice(v, depth)
	case reflect.Array:
		return d.arrayValue(v, depth)
	case reflect.Map:
		return d.mapValue(v, depth)
	case reflect.Struct:
		return d.structValue(v, info, depth)
	}
	return d.errorf("cannot decode into %v: %s", t, kindProblem(t.Kind()))
}

// text decodes a string into v, whose type encodes as text, using its
// UnmarshalText method.
func (d *decoder) text(v reflect.Value, info *typeInfo) error {
	t := v.Type()
	if !info.unmarshal {
		return d.errorf("cannot decode into %v: it implements encoding.TextMarshaler but not encoding.TextUnmarshaler", t)
	}
	if d.peek() != '"' {
		return d.mismatch(t)
	}
	off := d.pos
	s, err := d.str()
	if err != nil {
		return err
	}
	if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText(s); err != nil {
		return d.errorAt(off, "cannot decode into %v: UnmarshalText failed: %v", t, err)
	}
	return nil
}

// slice decodes into slice v, found at the given depth.
func (d *decoder) slice(v reflect.Value, depth int) error {
	t := v.Type()
	if t.Elem().Kind() == reflect.Uint8 {
		if d.peek() != '"' {
			return d.mismatch(t)
		}
		s, err := d.str()
		if err != nil {
			return err
		}
		v.SetBytes(append([]byte{}, s...))
		return nil
	}
	if d.peek() != '[' {
		return d.mismatch(t)
	}
	s := reflect.MakeSlice(t, 0, 0)
	zero := reflect.Zero(t.Elem())
	err := d.array(depth, func(depth int) error {
		s = reflect.Append(s, zero)
		return d.value(s.Index(s.Len()-1), depth)
	})
	if err != nil {
		return err
	}
	v.Set(s)
	return nil
}

// arrayValue decodes into array v, found at the given depth.
func (d *decoder) arrayValue(v reflect.Value, depth int) error {
	t := v.Type()
	if d.peek() != '[' {
		return d.mismatch(t)
	}
	off := d.pos
	n := 0
	err := d.array(depth, func(depth int) error {
		if n == v.Len() {
			return d.errorAt(off, "too many elements for %v", t)
		}
		n++
		return d.value(v.Index(n-1), depth)
	})
	if err != nil {
		return err
	}
	if n != v.Len() {
		return d.errorAt(off, "%d elements for %v", n, t)
	}
	return nil
}

// mapValue decodes into map v, found at the given depth.
func (d *decoder) mapValue(v reflect.Value, depth int) error {
	t := v.Type()
	if problem := keyProblem(t.Key()); problem != "" {
		return d.errorf("cannot decode into %v: %s", t, problem)
	}
	if d.peek() != '{' {
		return d.mismatch(t)
	}
	m := reflect.MakeMap(t)
	sorted := sortedKeys()
	err := d.object(depth, func(raw, key []byte, depth int) error {
		off := d.pos - len(raw) - 1
		if err := sorted(raw, off, d); err != nil {
			return err
		}
		k := reflect.New(t.Key()).Elem()
		if err := d.mapKey(k, key, off); err != nil {
			return err
		}
		if m.MapIndex(k).IsValid() {
			return d.errorAt(off, "object key %s repeats an earlier key of %v", raw, t)
		}
		e := reflect.New(t.Elem()).Elem()
		if err := d.value(e, depth); err != nil {
			return err
		}
		m.SetMapIndex(k, e)
		return nil
	})
	if err != nil {
		return err
	}
	v.Set(m)
	return nil
}

// mapKey sets k, an addressable map key of a type allowed by keyProblem, from
// its text, found in a literal at offset off.
func (d *decoder) mapKey(k reflect.Value, text []byte, off int) error {
	t := k.Type()
	if info := infoOf(t); info.marshal != noText {
		if !info.unmarshal {
			return d.errorAt(off, "cannot decode into %v: it implements encoding.TextMarshaler but not encoding.TextUnmarshaler", t)
		}
		if err := k.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText(text); err != nil {
			return d.errorAt(off, "cannot decode map key into %v: UnmarshalText failed: %v", t, err)
		}
		return nil
	}
	if t.Kind() == reflect.String {
		k.SetString(string(text))
		return nil
	}
	if isFloat, ok := checkNumber(text); !ok || isFloat || !setInteger(k, text) {
		return d.errorAt(off, "cannot decode map key %q into %v", text, t)
	}
	return nil
}

// structValue decodes into struct v, found at the given depth: the object
// must have exactly the encoded fields, in order.
func (d *decoder) structValue(v reflect.Value, info *typeInfo, depth int) error {
	t := v.Type()
	if info.problem != "" {
		return d.errorf("cannot decode into %v: %s", t, info.problem)
	}
	if d.peek() != '{' {
		return d.mismatch(t)
	}
	off := d.pos
	n := 0
	err := d.object(depth, func(raw, _ []byte, depth int) error {
		if n == len(info.fields) || !bytes.Equal(raw, info.fields[n].key[:len(info.fields[n].key)-1]) {
			return d.errorAt(d.pos-len(raw)-1, "unexpected object key %s for %v", raw, t)
		}
		n++
		return d.value(v.Field(info.fields[n-1].index), depth)
	})
	if err != nil {
		return err
	}
	if n != len(info.fields) {
		return d.errorAt(off, "missing field %s of %v", info.fields[n].key[:len(info.fields[n].key)-1], t)
	}
	return nil
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
