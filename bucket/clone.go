package bucket

import (
	"bytes"
	"reflect"
	"sync"
	"time"
)

// Warm reads keep each entry's decoded value beside its bytes and hand every
// caller a deep copy, so a warm Get skips parsing yet returns a value that is
// the caller's own and equal to what a cold decode would give (decoding never
// makes two parts of a value share memory, so neither does the copy).
//
// A type can be copied this way when every reference it holds (slice, map,
// pointer, interface) is reachable through exported fields, or is known to be
// immutable (time.Time's location). Other types are decoded on every Get.

// copyMode says how values of one type are copied.
type copyMode uint8

const (
	copyNever copyMode = iota // cannot be copied safely: decode every time
	copyPlain                 // no references: a Go assignment copies it
	copyDeep                  // references reachable through exported fields
)

var copyModes sync.Map // reflect.Type -> copyMode

func modeOf(t reflect.Type) copyMode {
	if m, ok := copyModes.Load(t); ok {
		return m.(copyMode)
	}
	m := computeMode(t, map[reflect.Type]bool{})
	copyModes.Store(t, m)
	return m
}

var timeType = reflect.TypeFor[time.Time]()

func computeMode(t reflect.Type, visiting map[reflect.Type]bool) copyMode {
	if t == timeType {
		return copyPlain // its *Location is never mutated
	}
	if visiting[t] {
		return copyDeep // a recursive type: references it holds are checked where they are
	}
	visiting[t] = true
	defer delete(visiting, t)
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128, reflect.String:
		return copyPlain
	case reflect.Array:
		return computeMode(t.Elem(), visiting)
	case reflect.Slice, reflect.Pointer:
		if computeMode(t.Elem(), visiting) == copyNever {
			return copyNever
		}
		return copyDeep
	case reflect.Map:
		if computeMode(t.Key(), visiting) == copyNever || computeMode(t.Elem(), visiting) == copyNever {
			return copyNever
		}
		return copyDeep
	case reflect.Interface:
		return copyDeep // checked again on the dynamic value
	case reflect.Struct:
		mode := copyPlain
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			m := computeMode(f.Type, visiting)
			if !f.IsExported() && m != copyPlain {
				return copyNever // a hidden reference we cannot copy
			}
			mode = max(mode, m)
			if m == copyNever {
				return copyNever
			}
		}
		return mode
	}
	return copyNever // funcs, channels, unsafe pointers
}

// deepCopy returns a copy of v sharing no mutable memory with it, and false
// if v holds something that cannot be copied.
func deepCopy[V any](v V) (V, bool) { return copierFor[V]()(&v) }

// copierFor returns a function that deep-copies the value p points to;
// Buckets build theirs once, at Open. Taking a pointer (a Bucket keeps its
// decoded values behind one) and copying into pooled scratch space, it
// allocates only what the copy itself holds: nothing for a plain value, one
// slice for a struct with one slice field.
func copierFor[V any]() func(p *V) (V, bool) {
	t := reflect.TypeFor[V]()
	switch modeOf(t) {
	case copyPlain:
		return func(p *V) (V, bool) { return *p, true }
	case copyNever:
		return func(p *V) (V, bool) { return *p, false }
	}
	c := copierOf(t)
	scratch := sync.Pool{New: func() any { return new(V) }}
	return func(p *V) (V, bool) {
		out := scratch.Get().(*V)
		ok := c(reflect.ValueOf(out).Elem(), reflect.ValueOf(p).Elem())
		v := *out
		var zero V
		*out = zero // keeps nothing of the copy alive
		scratch.Put(out)
		if !ok {
			return *p, false
		}
		return v, true
	}
}

// copier deep-copies src into dst, which has src's type and is settable.
type copier func(dst, src reflect.Value) bool

var copiers sync.Map // reflect.Type -> copier

// copierOf returns the copier for t, built once per type.
func copierOf(t reflect.Type) copier {
	if c, ok := copiers.Load(t); ok {
		return c.(copier)
	}
	// Recursive types reach themselves while being built: they find this
	// forwarding copier, which calls the finished one.
	var built copier
	forward := copier(func(dst, src reflect.Value) bool { return built(dst, src) })
	if c, loaded := copiers.LoadOrStore(t, forward); loaded {
		return c.(copier)
	}
	built = buildCopier(t)
	copiers.Store(t, built)
	return built
}

func buildCopier(t reflect.Type) copier {
	switch modeOf(t) {
	case copyPlain:
		return func(dst, src reflect.Value) bool { dst.Set(src); return true }
	case copyNever:
		return func(reflect.Value, reflect.Value) bool { return false }
	}
	switch t.Kind() {
	case reflect.Pointer:
		elem := copierOf(t.Elem())
		return func(dst, src reflect.Value) bool {
			if src.IsNil() {
				return true
			}
			p := reflect.New(t.Elem())
			if !elem(p.Elem(), src.Elem()) {
				return false
			}
			dst.Set(p)
			return true
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return func(dst, src reflect.Value) bool {
				if !src.IsNil() {
					dst.SetBytes(bytes.Clone(src.Bytes()))
				}
				return true
			}
		}
		plain := modeOf(t.Elem()) == copyPlain
		elem := copierOf(t.Elem())
		return func(dst, src reflect.Value) bool {
			if src.IsNil() {
				dst.SetZero()
				return true
			}
			n := src.Len()
			if n == 0 {
				dst.Set(reflect.MakeSlice(t, 0, 0)) // empty, not nil, as decoded
				return true
			}
			// Grown in place, dst gets a new array without a slice header
			// to allocate, as MakeSlice would.
			dst.SetZero()
			dst.Grow(n)
			dst.SetLen(n)
			if plain {
				reflect.Copy(dst, src)
				return true
			}
			for i := 0; i < n; i++ {
				if !elem(dst.Index(i), src.Index(i)) {
					return false
				}
			}
			return true
		}
	case reflect.Array:
		elem := copierOf(t.Elem())
		return func(dst, src reflect.Value) bool {
			for i := 0; i < src.Len(); i++ {
				if !elem(dst.Index(i), src.Index(i)) {
					return false
				}
			}
			return true
		}
	case reflect.Map:
		key, elem := copierOf(t.Key()), copierOf(t.Elem())
		return func(dst, src reflect.Value) bool {
			if src.IsNil() {
				return true
			}
			m := reflect.MakeMapWithSize(t, src.Len())
			k := reflect.New(t.Key()).Elem()
			e := reflect.New(t.Elem()).Elem()
			for it := src.MapRange(); it.Next(); {
				if !key(k, it.Key()) || !elem(e, it.Value()) {
					return false
				}
				m.SetMapIndex(k, e)
			}
			dst.Set(m)
			return true
		}
	case reflect.Interface:
		return func(dst, src reflect.Value) bool {
			if src.IsNil() {
				return true
			}
			inner := src.Elem()
			c := reflect.New(inner.Type()).Elem()
			if !copierOf(inner.Type())(c, inner) {
				return false
			}
			dst.Set(c)
			return true
		}
	case reflect.Struct:
		type field struct {
			index int
			copy  copier
		}
		var deep []field // exported fields holding references
		for i := 0; i < t.NumField(); i++ {
			if f := t.Field(i); f.IsExported() && modeOf(f.Type) != copyPlain {
				deep = append(deep, field{i, copierOf(f.Type)})
			}
		}
		return func(dst, src reflect.Value) bool {
			dst.Set(src) // copies every field; unexported ones hold no references
			for _, f := range deep {
				if !f.copy(dst.Field(f.index), src.Field(f.index)) {
					return false
				}
			}
			return true
		}
	}
	return func(reflect.Value, reflect.Value) bool { return false }
}
