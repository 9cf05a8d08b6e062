package canon

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

var (
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// textMethod says how a type's values are turned into text, if at all.
type textMethod uint8

const (
	noText      textMethod = iota // the type does not implement encoding.TextMarshaler
	valueText                     // T implements encoding.TextMarshaler
	pointerText                   // only *T implements encoding.TextMarshaler
)

// typeInfo is what encoding and decoding need to know about a type that is
// neither a pointer nor an interface. It is computed once per type.
type typeInfo struct {
	marshal   textMethod
	unmarshal bool // *T implements encoding.TextUnmarshaler

	// For struct types:
	fields  []Field // the encoded fields, in declaration order
	problem string  // why the struct has no canonical form, or ""
}

// Field is a struct field that Marshal encodes: a part of the key.
type Field struct {
	Index int    // its index in the struct, as reflect.Type.Field takes it
	Name  string // the name it is encoded under: its JSON tag name, or else its Go name
	key   []byte // Name as a canonical JSON string, followed by ':'
}

// AppendName appends to dst what Marshal writes before the field's value:
// its name as a canonical JSON string, then ':'.
func (f Field) AppendName(dst []byte) []byte { return append(dst, f.key...) }

// Fields returns the fields of the struct type t that Marshal encodes, in
// declaration order, named as the struct rules of the package doc say, or
// an *UnsupportedError if by those rules t has no canonical form (an
// unexported field, two fields of one name). Fields does not look at
// encoding.TextMarshaler, which Marshal applies before the struct rules.
//
// The fields whose indexes are in omit are left out before the rules are
// applied: they are not encoded, an unexported one is no error, and their
// names clash with no other. Without omit, the answer is computed once per
// type and shared: callers must not modify it.
func Fields(t reflect.Type, omit ...int) ([]Field, error) {
	if t.Kind() != reflect.Struct {
		return nil, &UnsupportedError{Type: t, Reason: "not a struct"}
	}
	var fields []Field
	var problem string
	if len(omit) == 0 {
		info := infoOf(t)
		fields, problem = info.fields, info.problem
	} else {
		fields, problem = structFields(t, omit)
	}
	if problem != "" {
		return nil, &UnsupportedError{Type: t, Reason: problem}
	}
	return fields, nil
}

// plainInfo describes the types that have no methods and no fields.
var plainInfo typeInfo

// predeclared holds the predeclared types without methods, by kind.
var predeclared = [...]reflect.Type{
	reflect.Bool:    reflect.TypeFor[bool](),
	reflect.Int:     reflect.TypeFor[int](),
	reflect.Int8:    reflect.TypeFor[int8](),
	reflect.Int16:   reflect.TypeFor[int16](),
	reflect.Int32:   reflect.TypeFor[int32](),
	reflect.Int64:   reflect.TypeFor[int64](),
	reflect.Uint:    reflect.TypeFor[uint](),
	reflect.Uint8:   reflect.TypeFor[uint8](),
	reflect.Uint16:  reflect.TypeFor[uint16](),
	reflect.Uint32:  reflect.TypeFor[uint32](),
	reflect.Uint64:  reflect.TypeFor[uint64](),
	reflect.Float32: reflect.TypeFor[float32](),
	reflect.Float64: reflect.TypeFor[float64](),
	reflect.String:  reflect.TypeFor[string](),
}

var infoCache sync.Map // reflect.Type -> *typeInfo

// infoOf returns the typeInfo of t, which must be neither a pointer nor an
// interface type.
func infoOf(t reflect.Type) *typeInfo {
	if k := t.Kind(); int(k) < len(predeclared) && predeclared[k] == t {
		return &plainInfo
	}
	if info, ok := infoCache.Load(t); ok {
		return info.(*typeInfo)
	}
	info := &typeInfo{unmarshal: reflect.PointerTo(t).Implements(textUnmarshalerType)}
	switch {
	case t.Implements(textMarshalerType):
		info.marshal = valueText
	case reflect.PointerTo(t).Implements(textMarshalerType):
		info.marshal = pointerText
	}
	if t.Kind() == reflect.Struct {
		info.fields, info.problem = structFields(t, nil)
	}
	actual, _ := infoCache.LoadOrStore(t, info)
	return actual.(*typeInfo)
}

// structFields returns the fields of struct type t that are encoded, or why
// t has no canonical form: the one walk of the struct rules. The fields
// whose indexes are in omit are left out first.
func structFields(t reflect.Type, omit []int) ([]Field, string) {
	var fields []Field
	names := make(map[string]string) // JSON name -> Go name
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Name == "_" || slices.Contains(omit, i) {
			continue
		}
		if !f.IsExported() {
			return nil, fmt.Sprintf("unexported field %s; export it, implement encoding.TextMarshaler, or supply a KeyMaker", f.Name)
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		if other, dup := names[name]; dup {
			return nil, fmt.Sprintf("fields %s and %s both have the name %q", other, f.Name, name)
		}
		names[name] = f.Name
		key := append(appendString(nil, name), ':')
		fields = append(fields, Field{Index: i, Name: name, key: key})
	}
	return fields, ""
}

// keyProblem reports why map keys of type t have no canonical form, or ""
// if they have one.
func keyProblem(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
	case reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return ""
	default:
		if infoOf(t).marshal != noText {
			return ""
		}
	}
	return fmt.Sprintf("map keys of type %v have no canonical form; use string, integer or encoding.TextMarshaler keys", t)
}

// kindProblem says why values of kind k have no canonical form, or "" if
// they may have one.
func kindProblem(k reflect.Kind) string {
	switch k {
	case reflect.Complex64, reflect.Complex128:
		return "complex numbers have no canonical form"
	case reflect.Func:
		return "functions have no canonical form"
	case reflect.Chan:
		return "channels have no canonical form"
	case reflect.Uintptr, reflect.UnsafePointer:
		return "pointer addresses have no canonical form"
	}
	return ""
}
