package canon

import (
	"bytes"
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"unsafe"
)

// maxDepth is the deepest nesting of arrays, objects and pointers that
// Marshal and Unmarshal accept.
const maxDepth = 10000

// Marshal returns the canonical bytes of v. See the package documentation
// for the encoding rules. Errors are of type *UnsupportedError.
func Marshal(v any) ([]byte, error) {
	return AppendMarshal(nil, v)
}

// AppendString appends the canonical bytes of the string s to dst: what
// AppendMarshal appends for it, without putting s in an interface.
func AppendString(dst []byte, s string) []byte { return appendString(dst, s) }

// AppendMarshal appends the canonical bytes of v to dst and returns the
// extended buffer, like Marshal. On error it returns dst unchanged (though
// bytes beyond its length may have been overwritten) and an *UnsupportedError.
// Appending a string or []byte key to a buffer with enough capacity does not
// allocate.
func AppendMarshal(dst []byte, v any) ([]byte, error) {
	// (A string or []byte key boxed in v allocates at the caller; callers
	// that know they hold a string use AppendString.)
	switch k := v.(type) {
	case string:
		return appendString(dst, k), nil
	case []byte:
		return appendString(dst, bytesString(k)), nil
	}
	var e encoder
	out, err := e.value(dst, reflect.ValueOf(v), 0)
	if err != nil {
		return dst, err.export()
	}
	return out, nil
}

// encoder holds the pointers, maps and slices on the path from the key to
// the value being encoded, to detect cycles.
type encoder struct {
	path []visit
	seen map[visit]struct{} // the same as path, once path is long
}

// visit identifies a pointer, map or non-empty slice.
type visit struct {
	ptr unsafe.Pointer
	len int
	typ reflect.Type
}

// pathMapLen is the path length from which cycles are looked up in a map.
const pathMapLen = 32

// enter adds pointer, map or non-empty slice v, of length n, to the path. It
// fails if v is already on the path.
func (e *encoder) enter(v reflect.Value, n int) *encodeError {
	k := visit{v.UnsafePointer(), n, v.Type()}
	var cycle bool
	if e.seen != nil {
		_, cycle = e.seen[k]
	} else {
		cycle = slices.Contains(e.path, k)
	}
	if cycle {
		return &encodeError{typ: v.Type(), reason: "cycle: the value contains itself"}
	}
	e.path = append(e.path, k)
	switch {
	case e.seen != nil:
		e.seen[k] = struct{}{}
	case len(e.path) > pathMapLen:
		e.seen = make(map[visit]struct{}, 2*len(e.path))
		for _, p := range e.path {
			e.seen[p] = struct{}{}
		}
	}
	return nil
}

// leave removes the last value from the path.
func (e *encoder) leave() {
	k := e.path[len(e.path)-1]
	e.path = e.path[:len(e.path)-1]
	if e.seen != nil {
		delete(e.seen, k)
	}
}

// value appends the canonical form of v, found at the given depth, to dst.
func (e *encoder) value(dst []byte, v reflect.Value, depth int) ([]byte, *encodeError) {
	switch v.Kind() {
	case reflect.Invalid:
		return append(dst, "null"...), nil
	case reflect.Interface:
		if v.IsNil() {
			return append(dst, "null"...), nil
		}
		return e.value(dst, v.Elem(), depth)
	case reflect.Pointer:
		if v.IsNil() {
			return append(dst, "null"...), nil
		}
		if depth++; depth > maxDepth {
			return dst, tooDeep(v.Type())
		}
		if err := e.enter(v, 0); err != nil {
			return dst, err
		}
		dst, err := e.value(dst, v.Elem(), depth)
		e.leave()
		return dst, err
	}
	t := v.Type()
	info := infoOf(t)
	if info.marshal != noText {
		text, err := marshalText(v, info.marshal)
		if err != nil {
			return dst, &encodeError{typ: t, reason: "MarshalText failed: " + err.Error()}
		}
		return appendString(dst, bytesString(text)), nil
	}
	switch k := v.Kind(); k {
	case reflect.Bool:
		return strconv.AppendBool(dst, v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(dst, v.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.AppendUint(dst, v.Uint(), 10), nil
	case reflect.Float32, reflect.Float64:
		out, problem := appendFloat(dst, v.Float(), t.Bits())
		if problem != "" {
			return dst, &encodeError{typ: t, reason: problem}
		}
		return out, nil
	case reflect.String:
		return appendString(dst, v.String()), nil
	case reflect.Slice, reflect.Array, reflect.Map, reflect.Struct:
		switch {
		case k == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
			return appendString(dst, bytesString(v.Bytes())), nil
		case k == reflect.Struct && info.problem != "":
			return dst, &encodeError{typ: t, reason: info.problem}
		case depth+1 > maxDepth:
			return dst, tooDeep(t)
		case k == reflect.Map:
			return e.mapValue(dst, v, depth+1)
		case k == reflect.Struct:
			return e.structValue(dst, v, info.fields, depth+1)
		case k == reflect.Slice && v.Len() > 0:
			if err := e.enter(v, v.Len()); err != nil {
				return dst, err
			}
			dst, err := e.elems(dst, v, depth+1)
			e.leave()
			return dst, err
		}
		return e.elems(dst, v, depth+1)
	}
	return dst, &encodeError{typ: t, reason: kindProblem(v.Kind())}
}

// tooDeep returns the error for a value of type t nested too deeply.
func tooDeep(t reflect.Type) *encodeError {
	return &encodeError{typ: t, reason: fmt.Sprintf("nested more than %d levels deep", maxDepth)}
}

// marshalText calls the MarshalText method of v, using a pointer to (a copy
// of) v if the method has a pointer receiver.
func marshalText(v reflect.Value, m textMethod) ([]byte, error) {
	if m == pointerText {
		if !v.CanAddr() {
			p := reflect.New(v.Type())
			p.Elem().Set(v)
			v = p.Elem()
		}
		v = v.Addr()
	}
	return v.Interface().(encoding.TextMarshaler).MarshalText()
}

// elems appends the array or slice v, whose depth is given, to dst.
func (e *encoder) elems(dst []byte, v reflect.Value, depth int) ([]byte, *encodeError) {
	dst = append(dst, '[')
	for i := range v.Len() {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err *encodeError
		if dst, err = e.value(dst, v.Index(i), depth); err != nil {
			return dst, err.at("[" + strconv.Itoa(i) + "]")
		}
	}
	return append(dst, ']'), nil
}

// structValue appends the fields of struct v, whose depth is given, to dst.
func (e *encoder) structValue(dst []byte, v reflect.Value, fields []Field, depth int) ([]byte, *encodeError) {
	dst = append(dst, '{')
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, f.key...)
		var err *encodeError
		if dst, err = e.value(dst, v.Field(f.Index), depth); err != nil {
			return dst, err.at("." + v.Type().Field(f.Index).Name)
		}
	}
	return append(dst, '}'), nil
}

// mapEntry is a map entry whose key has been encoded into a buffer.
type mapEntry struct {
	start, end int // the encoded key, including its quotes
	value      reflect.Value
}

// mapValue appends map v, whose depth is given, to dst, with its entries
// sorted by their encoded keys.
func (e *encoder) mapValue(dst []byte, v reflect.Value, depth int) ([]byte, *encodeError) {
	t := v.Type()
	if problem := keyProblem(t.Key()); problem != "" {
		return dst, &encodeError{typ: t, reason: problem}
	}
	if v.Len() == 0 {
		return append(dst, "{}"...), nil
	}
	if err := e.enter(v, 0); err != nil {
		return dst, err
	}
	defer e.leave()
	var keys []byte
	entries := make([]mapEntry, 0, v.Len())
	for iter := v.MapRange(); iter.Next(); {
		start := len(keys)
		var err *encodeError
		if keys, err = appendKey(keys, iter.Key()); err != nil {
			return dst, err
		}
		entries = append(entries, mapEntry{start, len(keys), iter.Value()})
	}
	// Sort by the text between the quotes.
	key := func(m mapEntry) []byte { return keys[m.start+1 : m.end-1] }
	slices.SortFunc(entries, func(a, b mapEntry) int { return bytes.Compare(key(a), key(b)) })
	dst = append(dst, '{')
	for i, m := range entries {
		if i > 0 {
			if bytes.Equal(key(entries[i-1]), key(m)) {
				return dst, &encodeError{typ: t.Key(), reason: fmt.Sprintf("two map keys have the same text %s", keys[m.start:m.end])}
			}
			dst = append(dst, ',')
		}
		dst = append(dst, keys[m.start:m.end]...)
		dst = append(dst, ':')
		var err *encodeError
		if dst, err = e.value(dst, m.value, depth); err != nil {
			return dst, err.at("[" + string(keys[m.start:m.end]) + "]")
		}
	}
	return append(dst, '}'), nil
}

// appendKey appends the JSON string of map key k to dst.
func appendKey(dst []byte, k reflect.Value) ([]byte, *encodeError) {
	if m := infoOf(k.Type()).marshal; m != noText {
		text, err := marshalText(k, m)
		if err != nil {
			return dst, &encodeError{typ: k.Type(), reason: "MarshalText failed: " + err.Error()}
		}
		return appendString(dst, bytesString(text)), nil
	}
	switch k.Kind() {
	case reflect.String:
		return appendString(dst, k.String()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		dst = append(dst, '"')
		return append(strconv.AppendInt(dst, k.Int(), 10), '"'), nil
	default: // an unsigned integer; see keyProblem
		dst = append(dst, '"')
		return append(strconv.AppendUint(dst, k.Uint(), 10), '"'), nil
	}
}
