package canon

import (
	"bytes"
	"encoding"
	"fmt"
	"reflect"
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
		return d.value(v.Field(info.fields[n-1].Index), depth)
	})
	if err != nil {
		return err
	}
	if n != len(info.fields) {
		return d.errorAt(off, "missing field %s of %v", info.fields[n].key[:len(info.fields[n].key)-1], t)
	}
	return nil
}
