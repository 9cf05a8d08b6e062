package bucket

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/bucketcache/bucketcache/internal/canon"
)

// memoKeyPrefix starts every memo entry's key. No canonical key (package
// canon, the default KeyMaker) starts with a letter other than n, t and f,
// so a memo entry never shares a key with an entry stored by Set.
const memoKeyPrefix = "memo "

// memoKeyer makes the canonical key bytes of a memoized call: the prefix,
// the namespace (name and version, as canonical JSON strings, which end
// unambiguously) and the argument's bytes.
type memoKeyer[A any] struct {
	prefix []byte // memoKeyPrefix, name, version, each followed by a space
	keys   KeyMaker
	canon  bool // keys is DefaultKeyMaker: append canonical bytes directly

	// With Ignore:
	fields []canon.Field // default KeyMaker: the fields that make the key (never nil)
	zero   []int         // custom KeyMaker: indexes of the fields to zero
}

func newMemoKeyer[A any](name, version string, keys KeyMaker, ignore []string) (*memoKeyer[A], error) {
	k := &memoKeyer[A]{keys: keys, canon: keys == DefaultKeyMaker}
	k.prefix = append(k.prefix, memoKeyPrefix...)
	k.prefix, _ = canon.AppendMarshal(k.prefix, name)
	k.prefix = append(k.prefix, ' ')
	k.prefix, _ = canon.AppendMarshal(k.prefix, version)
	k.prefix = append(k.prefix, ' ')
	if len(ignore) == 0 {
		return k, nil
	}
	t := reflect.TypeFor[A]()
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("Ignore(%s) needs a struct argument type; %v is a %v", quoteAll(ignore), t, t.Kind())
	}
	if k.canon && (t.Implements(textMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType)) {
		return nil, fmt.Errorf("Ignore(%s): %v implements encoding.TextMarshaler, so its key is its text as a whole and has no fields to leave out", quoteAll(ignore), t)
	}
	var omit []int // indexes of the ignored fields
	for _, name := range ignore {
		i, ok := fieldIndex(t, name)
		if !ok {
			return nil, fmt.Errorf("Ignore(%q): %v has no field %q; its fields are %s", name, t, name, fieldList(t))
		}
		if !slices.Contains(omit, i) {
			omit = append(omit, i)
		}
	}
	if !k.canon {
		for _, i := range omit {
			if f := t.Field(i); !f.IsExported() {
				return nil, fmt.Errorf("Ignore(%q): field %s of %v is unexported, and with a custom KeyMaker ignored fields must be exported (they are zeroed in a copy of the argument)", f.Name, f.Name, t)
			}
		}
		k.zero = omit
		return k, nil
	}
	// The key is the argument's canonical text without the ignored fields:
	// the fields package canon encodes once those are left out, named as
	// it names them (one walk of the struct rules, canon's).
	fields, err := canon.Fields(t, omit...)
	if err != nil {
		return nil, fmt.Errorf("%w (Ignore can leave a field out)", err)
	}
	k.fields = fields
	if k.fields == nil {
		k.fields = []canon.Field{}
	}
	return k, nil
}

var textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()

// fieldIndex finds the field of struct t that name names: its Go name, or
// failing that its JSON tag name.
func fieldIndex(t reflect.Type, name string) (int, bool) {
	for i := range t.NumField() {
		if t.Field(i).Name == name {
			return i, true
		}
	}
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if tag != "" && tag != "-" && tag == name {
			return i, true
		}
	}
	return 0, false
}

func fieldList(t reflect.Type) string {
	var names []string
	for i := range t.NumField() {
		names = append(names, t.Field(i).Name)
	}
	if names == nil {
		return "none"
	}
	return strings.Join(names, ", ")
}

func quoteAll(s []string) string {
	q := slices.Clone(s)
	for i := range q {
		q[i] = fmt.Sprintf("%q", q[i])
	}
	return strings.Join(q, ", ")
}

// appendString appends the key of a call with a string argument a to dst,
// as key does, and reports whether a is one. It keeps no reference to dst,
// so a caller's scratch space on its stack stays there.
func (k *memoKeyer[A]) appendString(dst []byte, a A) ([]byte, bool) {
	if s, ok := any(a).(string); ok && k.canon && k.fields == nil {
		return canon.AppendString(append(dst, k.prefix...), s), true
	}
	return nil, false
}

// key appends the canonical key bytes of a call with argument a to dst.
func (k *memoKeyer[A]) key(dst []byte, a A) ([]byte, error) {
	switch {
	case k.fields != nil:
		v := reflect.ValueOf(a) // not &a, which would move a to the heap
		dst = append(append(dst, k.prefix...), '{')
		for j, f := range k.fields {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = f.AppendName(dst)
			var err error
			if dst, err = canon.AppendMarshal(dst, v.Field(f.Index).Interface()); err != nil {
				return nil, fmt.Errorf("field %s: %w", v.Type().Field(f.Index).Name, err)
			}
		}
		return append(dst, '}'), nil
	case k.canon:
		if kb, ok := k.appendString(dst, a); ok {
			return kb, nil
		}
		return canon.AppendMarshal(append(dst, k.prefix...), a)
	}
	arg := any(a)
	if k.zero != nil {
		v := reflect.New(reflect.TypeFor[A]()).Elem()
		v.Set(reflect.ValueOf(a))
		for _, i := range k.zero {
			v.Field(i).SetZero()
		}
		arg = v.Interface()
	}
	kb, err := k.keys.MakeKey(arg)
	if err != nil {
		return nil, err
	}
	return append(append(dst, k.prefix...), kb...), nil
}
