package canon_test

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/bucketcache/bucketcache/internal/canon"
)

// Types used as keys in the tests.
type (
	Point struct{ X, Y int }

	Tagged struct {
		Name   string `json:"name"`
		Skip   int    `json:"-"`
		Dash   int    `json:"-,"`
		Opt    int    `json:",omitempty"`
		Quoted string `json:"a\"b"`
		_      int
	}

	Inner struct{ A int }

	Outer struct {
		Inner
		*Point
		B string
	}

	Name string

	Bytes []byte

	Byte uint8

	// upper implements encoding.TextMarshaler with a value receiver.
	upper string

	// secret has an unexported field but implements encoding.TextMarshaler
	// and encoding.TextUnmarshaler with pointer receivers.
	secret struct{ n int }

	// node can form cycles.
	node struct{ Next *node }

	unexported struct {
		A int
		b int
	}

	unexportedDash struct {
		A int
		b int `json:"-"`
	}

	dupFieldAndTag struct {
		A int
		B int `json:"A"`
	}

	// failText fails to marshal.
	failText struct{}

	// sameText gives every value the same text.
	sameText int

	// onlyMarshal implements encoding.TextMarshaler but not
	// encoding.TextUnmarshaler.
	onlyMarshal int

	// onlyUnmarshal implements encoding.TextUnmarshaler only, so it encodes
	// by its kind.
	onlyUnmarshal int

	// selfRef holds an address inside itself, which is not a cycle.
	selfRef struct {
		F int
		P *int
	}
)

func (u upper) MarshalText() ([]byte, error) { return []byte(strings.ToUpper(string(u))), nil }

func (u *upper) UnmarshalText(b []byte) error {
	*u = upper(strings.ToLower(string(b)))
	return nil
}

func (s *secret) MarshalText() ([]byte, error) { return []byte("secret-" + strconv.Itoa(s.n)), nil }

func (s *secret) UnmarshalText(b []byte) error {
	n, ok := strings.CutPrefix(string(b), "secret-")
	if !ok {
		return errors.New("no secret- prefix")
	}
	var err error
	s.n, err = strconv.Atoi(n)
	return err
}

func (failText) MarshalText() ([]byte, error) { return nil, errors.New("no text today") }

func (sameText) MarshalText() ([]byte, error) { return []byte("same"), nil }

func (o onlyMarshal) MarshalText() ([]byte, error) { return []byte(strconv.Itoa(int(o))), nil }

func (o *onlyUnmarshal) UnmarshalText(b []byte) error { return errors.New("unused") }

func ptr[T any](v T) *T { return &v }

// golden lists keys and their exact canonical bytes.
var golden = []struct {
	name string
	key  any
	want string
}{
	{"nil", nil, `null`},
	{"true", true, `true`},
	{"false", false, `false`},

	{"int 0", 0, `0`},
	{"int -1", -1, `-1`},
	{"int8 min", int8(math.MinInt8), `-128`},
	{"int8 1", int8(1), `1`},
	{"int16 max", int16(math.MaxInt16), `32767`},
	{"int32 min", int32(math.MinInt32), `-2147483648`},
	{"int64 min", int64(math.MinInt64), `-9223372036854775808`},
	{"int64 max", int64(math.MaxInt64), `9223372036854775807`},
	{"int64 1", int64(1), `1`},
	{"uint 1", uint(1), `1`},
	{"uint8 max", uint8(255), `255`},
	{"uint16 max", uint16(math.MaxUint16), `65535`},
	{"uint32 max", uint32(math.MaxUint32), `4294967295`},
	{"uint64 max", uint64(math.MaxUint64), `18446744073709551615`},
	{"named uint8", Byte(7), `7`},

	{"float 1", 1.0, `1.0`},
	{"float -1.5", -1.5, `-1.5`},
	{"float 0.1", 0.1, `0.1`},
	{"float 100", 100.0, `100.0`},
	{"float 1e20", 1e20, `100000000000000000000.0`},
	{"float below 1e21", 1.2345678901234568e20, `123456789012345680000.0`},
	{"float 1e21", 1e21, `1e+21`},
	{"float -1e21", -1e21, `-1e+21`},
	{"float 1e-6", 1e-6, `0.000001`},
	{"float 1.5e-7", 1.5e-7, `1.5e-7`},
	{"float 1e-7", 1e-7, `1e-7`},
	{"float max", math.MaxFloat64, `1.7976931348623157e+308`},
	{"float smallest", math.SmallestNonzeroFloat64, `5e-324`},
	{"float 0", 0.0, `0.0`},
	{"float -0", math.Copysign(0, -1), `0.0`},
	{"float 0.1+0.2", 0.30000000000000004, `0.30000000000000004`},
	{"float32 0.1", float32(0.1), `0.1`},
	{"float32 1", float32(1), `1.0`},
	{"float32 2^24", float32(1 << 24), `16777216.0`},
	{"float32 1e21", float32(1e21), `1e+21`},
	{"float32 1e-7", float32(1e-7), `1e-7`},
	{"float32 max", float32(math.MaxFloat32), `3.4028235e+38`},
	{"float32 -0", float32(math.Copysign(0, -1)), `0.0`},

	{"empty string", "", `""`},
	{"string", "hello", `"hello"`},
	{"quote", `a"b`, `"a\"b"`},
	{"backslash", `a\b`, `"a\\b"`},
	{"short escapes", "\b\f\n\r\t", `"\b\f\n\r\t"`},
	{"NUL", "a\x00b", `"a\u0000b"`},
	{"control", "\x01\x1f", `"\u0001\u001f"`},
	{"DEL", "\x7f", `"\u007f"`},
	{"slash", "a/b", `"a/b"`},
	{"dot dot", "..", `".."`},
	{"html", "<&>", `"<&>"`},
	{"non-ASCII", "é日本", `"é日本"`},
	{"emoji", "😀", `"😀"`},
	{"line separators", "\u2028\u2029", "\"\u2028\u2029\""},
	{"replacement char", "\uFFFD", "\"\uFFFD\""},
	{"invalid byte", "\xff", `"\udcff"`},
	{"invalid lead", "a\xc0b", `"a\udcc0b"`},
	{"lone continuation", "\x80", `"\udc80"`},
	{"truncated sequence", "\xe2\x82", `"\udce2\udc82"`},
	{"truncated before valid", "\xe2\x82\xe2\x82\xac", `"\udce2\udc82€"`},
	{"encoded surrogate", "\xed\xa0\x80", `"\udced\udca0\udc80"`},
	{"encoded escape", "\xed\xb3\xbf", `"\udced\udcb3\udcbf"`},
	{"escape-like text", `\udcff`, `"\\udcff"`},
	{"overlong", "\xc0\xaf", `"\udcc0\udcaf"`},
	{"named string", Name("n"), `"n"`},

	{"[]byte", []byte("a\xff\""), `"a\udcff\""`},
	{"nil []byte", []byte(nil), `""`},
	{"named []byte", Bytes("hi"), `"hi"`},
	{"[]Byte", []Byte("hi"), `"hi"`},
	{"byte array", [2]byte{1, 2}, `[1,2]`},

	{"slice", []int{3, 1, 2}, `[3,1,2]`},
	{"nil slice", []int(nil), `[]`},
	{"empty slice", []int{}, `[]`},
	{"array", [3]string{"a", "b", "c"}, `["a","b","c"]`},
	{"empty array", [0]int{}, `[]`},
	{"nested slices", [][]int{{1}, {}, nil}, `[[1],[],[]]`},

	{"map", map[string]int{"b": 1, "a": 2, "c": 3, "": 0}, `{"":0,"a":2,"b":1,"c":3}`},
	{"map prefix order", map[string]int{"a!": 1, "a": 2, "a ": 3}, `{"a":2,"a ":3,"a!":1}`},
	{"map escaped keys", map[string]bool{"\n": true, "a": false, `"`: true, "\xff": true}, `{"\"":true,"\n":true,"\udcff":true,"a":false}`},
	{"map int keys", map[int]string{10: "a", 2: "b", -1: "c"}, `{"-1":"c","10":"a","2":"b"}`},
	{"map uint8 keys", map[uint8]int{255: 1, 0: 2}, `{"0":2,"255":1}`},
	{"map named keys", map[Name]int{"y": 1, "x": 2}, `{"x":2,"y":1}`},
	{"map text keys", map[upper]int{"b": 1, "a": 2}, `{"A":2,"B":1}`},
	{"map addr keys", map[netip.Addr]int{netip.MustParseAddr("10.0.0.1"): 1, netip.MustParseAddr("::1"): 2}, `{"10.0.0.1":1,"::1":2}`},
	{"nil map", map[string]int(nil), `{}`},
	{"empty map", map[string]int{}, `{}`},
	{"map of slices", map[string][]int{"a": nil}, `{"a":[]}`},

	{"struct", Point{1, -2}, `{"X":1,"Y":-2}`},
	{"empty struct", struct{}{}, `{}`},
	{"tags", Tagged{Name: "n", Skip: 1, Dash: 2, Opt: 0, Quoted: "q"}, `{"name":"n","-":2,"Opt":0,"a\"b":"q"}`},
	{"embedded", Outer{Inner{1}, &Point{2, 3}, "b"}, `{"Inner":{"A":1},"Point":{"X":2,"Y":3},"B":"b"}`},
	{"embedded nil pointer", Outer{}, `{"Inner":{"A":0},"Point":null,"B":""}`},
	{"nested struct", struct {
		P  Point
		PS []Point
		M  map[string]Point
	}{Point{1, 2}, []Point{{3, 4}}, map[string]Point{"k": {5, 6}}}, `{"P":{"X":1,"Y":2},"PS":[{"X":3,"Y":4}],"M":{"k":{"X":5,"Y":6}}}`},
	{"address inside itself", func() any { s := &selfRef{F: 1}; s.P = &s.F; return s }(), `{"F":1,"P":1}`},

	{"pointer", ptr(5), `5`},
	{"pointer to pointer", ptr(ptr("s")), `"s"`},
	{"nil pointer", (*int)(nil), `null`},
	{"pointer to struct", &Point{1, 2}, `{"X":1,"Y":2}`},
	{"shared pointer", func() any { p := &Point{}; return []*Point{p, p} }(), `[{"X":0,"Y":0},{"X":0,"Y":0}]`},

	{"interfaces", []any{1, "a", nil, 1.5, true, []any{}, map[string]any{}, Point{}}, `[1,"a",null,1.5,true,[],{},{"X":0,"Y":0}]`},
	{"interface field", struct{ V any }{Point{1, 2}}, `{"V":{"X":1,"Y":2}}`},
	{"nil interface field", struct{ V any }{}, `{"V":null}`},
	{"error interface", struct{ E error }{}, `{"E":null}`},

	{"time", time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC), `"2024-01-02T03:04:05.000000006Z"`},
	{"time zone", time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("", 2*3600)), `"2024-01-02T03:04:05+02:00"`},
	{"time pointer", ptr(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)), `"2024-01-02T00:00:00Z"`},
	{"netip.Addr", netip.MustParseAddr("2001:db8::1"), `"2001:db8::1"`},
	{"text value receiver", upper("abc"), `"ABC"`},
	{"text pointer receiver", secret{42}, `"secret-42"`},
	{"text pointer receiver in slice", []secret{{1}}, `["secret-1"]`},
	{"text pointer receiver via pointer", &secret{7}, `"secret-7"`},
	{"text nil pointer", (*secret)(nil), `null`},
	{"text in map value", map[string]secret{"k": {3}}, `{"k":"secret-3"}`},
	{"only UnmarshalText", onlyUnmarshal(5), `5`},
	{"promoted MarshalText", struct {
		time.Time
		N int
	}{time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), 1}, `"2024-01-02T00:00:00Z"`},
}

func TestGolden(t *testing.T) {
	for _, tc := range golden {
		got, err := canon.Marshal(tc.key)
		if err != nil {
			t.Errorf("%s: Marshal(%#v): %v", tc.name, tc.key, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("%s: Marshal(%#v)\n got %s\nwant %s", tc.name, tc.key, got, tc.want)
		}
		if !canon.Valid(got) {
			t.Errorf("%s: Valid(%s) = false", tc.name, got)
		}
		prefix := []byte("prefix")
		got2, err := canon.AppendMarshal(prefix, tc.key)
		if err != nil || string(got2) != "prefix"+tc.want {
			t.Errorf("%s: AppendMarshal = %s, %v", tc.name, got2, err)
		}
	}
}

func TestSameBytes(t *testing.T) {
	// Keys that are documented to give the same bytes.
	tests := []struct {
		name string
		a, b any
	}{
		{"int8 and int64", int8(1), int64(1)},
		{"int and uint", int(7), uint64(7)},
		{"[]byte and string", []byte("a\xffb"), "a\xffb"},
		{"nil and empty slice", []string(nil), []string{}},
		{"nil and empty map", map[int]int(nil), map[int]int{}},
		{"nil and empty []byte", []byte(nil), ""},
		{"zero and negative zero", 0.0, math.Copysign(0, -1)},
		{"value and pointer", Point{1, 2}, &Point{1, 2}},
		{"float32 and float64 of the same text", float32(0.1), 0.1},
		{"map insertion order", map[string]int{"a": 1, "b": 2}, func() map[string]int {
			m := map[string]int{"b": 2}
			m["a"] = 1
			return m
		}()},
	}
	for _, tc := range tests {
		a, errA := canon.Marshal(tc.a)
		b, errB := canon.Marshal(tc.b)
		if errA != nil || errB != nil || string(a) != string(b) {
			t.Errorf("%s: %s (%v) != %s (%v)", tc.name, a, errA, b, errB)
		}
	}
}

func TestInjective(t *testing.T) {
	pairs := []struct{ a, b any }{
		{1, 1.0},
		{1, "1"},
		{1.0, "1.0"},
		{"a", `"a"`},
		{"\xff", `\udcff`},
		{"\xff", "\xed\xb3\xbf"},
		{"\xff", "\u00ff"},
		{"\xc3\xa9", "\xc3"},
		{"", nil},
		{"null", nil},
		{"true", true},
		{[]int{1, 2}, "[1,2]"},
		{[]string{"a,b"}, []string{"a", "b"}},
		{[]any{nil}, []any{}},
		{[]any{""}, []any{nil}},
		{map[string]int{}, []int{}},
		{map[string]string{"a": "b"}, map[string]string{"a": "", "b": ""}},
		{struct{ A *int }{}, struct{ A *int }{ptr(0)}},
		{"a\x00", "a"},
		{"\u00e9", "e\u0301"},
		{"\n", `\n`},
		{"\t", " "},
		{0.1, 0.10000000000000002},
		{float32(0.1), float32(0.10000001)},
		{int64(-1), uint64(math.MaxUint64)},
		{0, 0.0},
		{"0", 0},
		{Point{1, 2}, Point{2, 1}},
		{[2]int{}, []int{0}},
	}
	for _, p := range pairs {
		a, errA := canon.Marshal(p.a)
		b, errB := canon.Marshal(p.b)
		if errA != nil || errB != nil {
			t.Errorf("Marshal(%#v), Marshal(%#v): %v, %v", p.a, p.b, errA, errB)
			continue
		}
		if string(a) == string(b) {
			t.Errorf("Marshal(%#v) == Marshal(%#v) == %s", p.a, p.b, a)
		}
	}
}

func TestErrors(t *testing.T) {
	cyclicNode := &node{}
	cyclicNode.Next = &node{Next: cyclicNode}
	cyclicMap := map[string]any{}
	cyclicMap["self"] = cyclicMap
	cyclicSlice := []any{1, nil}
	cyclicSlice[1] = cyclicSlice
	var selfPointer any
	selfPointer = &selfPointer
	// A cycle found only after a long path of pointers.
	long := make([]node, 100)
	for i := range long[:99] {
		long[i].Next = &long[i+1]
	}
	long[99].Next = &long[50]
	// Built with reflect, as go vet rejects duplicate tags in source.
	dupNames := reflect.New(reflect.StructOf([]reflect.StructField{
		{Name: "A", Type: reflect.TypeFor[int](), Tag: `json:"x"`},
		{Name: "B", Type: reflect.TypeFor[int](), Tag: `json:"x,omitempty"`},
	})).Elem().Interface()

	tests := []struct {
		name string
		key  any
		want string // the exact error message
	}{
		{"func", func() {}, "canon: cannot encode key of type func(): functions have no canonical form"},
		{"nil func", (func())(nil), "canon: cannot encode key of type func(): functions have no canonical form"},
		{"chan", make(chan int), "canon: cannot encode key of type chan int: channels have no canonical form"},
		{"complex", complex(1, 2), "canon: cannot encode key of type complex128: complex numbers have no canonical form"},
		{"complex64", complex64(1), "canon: cannot encode key of type complex64: complex numbers have no canonical form"},
		{"uintptr", uintptr(1), "canon: cannot encode key of type uintptr: pointer addresses have no canonical form"},
		{"unsafe.Pointer", unsafe.Pointer(nil), "canon: cannot encode key of type unsafe.Pointer: pointer addresses have no canonical form"},
		{"NaN", math.NaN(), "canon: cannot encode key of type float64: NaN has no canonical form"},
		{"float32 NaN", float32(math.NaN()), "canon: cannot encode key of type float32: NaN has no canonical form"},
		{"+Inf", math.Inf(1), "canon: cannot encode key of type float64: infinities have no canonical form"},
		{"-Inf", math.Inf(-1), "canon: cannot encode key of type float64: infinities have no canonical form"},
		{"float key", map[float64]int{1: 1}, "canon: cannot encode key of type map[float64]int: map keys of type float64 have no canonical form; use string, integer or encoding.TextMarshaler keys"},
		{"interface key", map[any]int{}, "canon: cannot encode key of type map[interface {}]int: map keys of type interface {} have no canonical form; use string, integer or encoding.TextMarshaler keys"},
		{"struct key", map[Point]int{}, "canon: cannot encode key of type map[canon_test.Point]int: map keys of type canon_test.Point have no canonical form; use string, integer or encoding.TextMarshaler keys"},
		{"bool key", map[bool]int{}, "canon: cannot encode key of type map[bool]int: map keys of type bool have no canonical form; use string, integer or encoding.TextMarshaler keys"},
		{"pointer key", map[*upper]int{}, "canon: cannot encode key of type map[*canon_test.upper]int: map keys of type *canon_test.upper have no canonical form; use string, integer or encoding.TextMarshaler keys"},
		{"uintptr key", map[uintptr]int{}, "canon: cannot encode key of type map[uintptr]int: map keys of type uintptr have no canonical form; use string, integer or encoding.TextMarshaler keys"},
		{"unexported field", unexported{}, "canon: cannot encode key of type canon_test.unexported: unexported field b; export it, implement encoding.TextMarshaler, or supply a KeyMaker"},
		{"unexported field tagged -", unexportedDash{}, "canon: cannot encode key of type canon_test.unexportedDash: unexported field b; export it, implement encoding.TextMarshaler, or supply a KeyMaker"},
		{"anonymous struct", struct{ a int }{}, "canon: cannot encode key of type struct { a int }: unexported field a; export it, implement encoding.TextMarshaler, or supply a KeyMaker"},
		{"duplicate names", dupNames, `canon: cannot encode key of type struct { A int "json:\"x\""; B int "json:\"x,omitempty\"" }: fields A and B both have the name "x"`},
		{"duplicate field and tag", dupFieldAndTag{}, `canon: cannot encode key of type canon_test.dupFieldAndTag: fields A and B both have the name "A"`},
		{"cyclic pointer", cyclicNode, "canon: cannot encode key of type *canon_test.node at .Next.Next: cycle: the value contains itself"},
		{"cyclic map", cyclicMap, `canon: cannot encode key of type map[string]interface {} at ["self"]: cycle: the value contains itself`},
		{"cyclic slice", cyclicSlice, "canon: cannot encode key of type []interface {} at [1]: cycle: the value contains itself"},
		{"self pointer", selfPointer, "canon: cannot encode key of type *interface {}: cycle: the value contains itself"},
		{"long cycle", &long[0], "canon: cannot encode key of type *canon_test.node at " + strings.Repeat(".Next", 100) + ": cycle: the value contains itself"},
		{"path", struct{ F []any }{[]any{0, 0, func() {}}}, "canon: cannot encode key of type func() at .F[2]: functions have no canonical form"},
		{"map path", map[string]any{"a": 1, "k\n": []any{make(chan int)}}, `canon: cannot encode key of type chan int at ["k\n"][0]: channels have no canonical form`},
		{"pointer path", &struct{ P *struct{ C complex64 } }{&struct{ C complex64 }{}}, "canon: cannot encode key of type complex64 at .P.C: complex numbers have no canonical form"},
		{"MarshalText error", []any{failText{}}, "canon: cannot encode key of type canon_test.failText at [0]: MarshalText failed: no text today"},
		{"time out of range", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "canon: cannot encode key of type time.Time: MarshalText failed: Time.MarshalText: year outside of range [0,9999]"},
		{"same text keys", map[sameText]int{1: 1, 2: 2}, `canon: cannot encode key of type canon_test.sameText: two map keys have the same text "same"`},
		{"map key MarshalText error", map[failText]int{{}: 1}, "canon: cannot encode key of type canon_test.failText: MarshalText failed: no text today"},
	}
	for _, tc := range tests {
		b, err := canon.Marshal(tc.key)
		if err == nil {
			t.Errorf("%s: Marshal = %s, want error", tc.name, b)
			continue
		}
		if b != nil {
			t.Errorf("%s: Marshal returned %q with its error", tc.name, b)
		}
		var ue *canon.UnsupportedError
		if !errors.As(err, &ue) {
			t.Errorf("%s: error %T is not an *UnsupportedError", tc.name, err)
		}
		if err.Error() != tc.want {
			t.Errorf("%s: error\n got %s\nwant %s", tc.name, err, tc.want)
		}
		dst := []byte("keep")
		out, err := canon.AppendMarshal(dst, tc.key)
		if err == nil || string(out) != "keep" {
			t.Errorf("%s: AppendMarshal = %q, %v; want dst unchanged and an error", tc.name, out, err)
		}
	}
}

func TestUnsupportedErrorFields(t *testing.T) {
	_, err := canon.Marshal(map[string][]any{"k": {1, func() {}}})
	var ue *canon.UnsupportedError
	if !errors.As(err, &ue) {
		t.Fatalf("error %v is not an *UnsupportedError", err)
	}
	if ue.Type.String() != "func()" || ue.Path != `["k"][1]` || ue.Reason != "functions have no canonical form" {
		t.Errorf("got %+v", *ue)
	}
}

// nest returns a value nested depth levels deep in arrays.
func nest(depth int) any {
	var v any = []any{}
	for range depth - 1 {
		v = []any{v}
	}
	return v
}

func TestDepth(t *testing.T) {
	const max = 10000
	ok := strings.Repeat("[", max) + strings.Repeat("]", max)
	b, err := canon.Marshal(nest(max))
	if err != nil || string(b) != ok {
		t.Fatalf("Marshal of %d levels: %v", max, err)
	}
	var v any
	if err := canon.Unmarshal(b, &v); err != nil {
		t.Errorf("Unmarshal of %d levels: %v", max, err)
	}
	if !canon.Valid(b) {
		t.Errorf("Valid of %d levels = false", max)
	}

	want := fmt.Sprintf("nested more than %d levels deep", max)
	if _, err := canon.Marshal(nest(max + 1)); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Marshal of %d levels: %v, want %q", max+1, err, want)
	}
	tooDeep := "[" + ok + "]"
	if err := canon.Unmarshal([]byte(tooDeep), &v); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Unmarshal of %d levels: %v, want %q", max+1, err, want)
	}
	if canon.Valid([]byte(tooDeep)) {
		t.Errorf("Valid of %d levels = true", max+1)
	}

	// A long acyclic list: pointers count as levels too.
	var list *node
	for range max / 2 {
		list = &node{Next: list}
	}
	if _, err := canon.Marshal(list); err != nil {
		t.Errorf("Marshal of a list of %d nodes: %v", max/2, err)
	}
	list = &node{Next: list}
	if _, err := canon.Marshal(list); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Marshal of a list of %d nodes: %v, want %q", max/2+1, err, want)
	}
}

func TestManyEntriesDeterministic(t *testing.T) {
	m := make(map[string]int)
	for i := range 2000 {
		m[strconv.Itoa(i*7919)] = i
	}
	first, err := canon.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		again, err := canon.Marshal(m)
		if err != nil || string(again) != string(first) {
			t.Fatal("Marshal of the same map gave different bytes")
		}
	}
}
