package canon_test

import (
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/internal/canon"
)

func TestUnmarshal(t *testing.T) {
	tests := []struct {
		text string
		want any // Unmarshal into a new value of want's type must give want
	}{
		{`1`, 1.0},
		{`-12`, float32(-12)},
		{`0`, 0.0},
		{`0.1`, float32(0.1)},
		{`3.4028235e+38`, float32(math.MaxFloat32)},
		{`255`, uint8(255)},
		{`-128`, int8(-128)},
		{`"hi"`, []byte("hi")},
		{`""`, []byte{}},
		{`"\udcff"`, Bytes("\xff")},
		{`null`, (*int)(nil)},
		{`null`, []any{nil}[0]},
		{`[null,1]`, []*int{nil, ptr(1)}},
		{`null`, struct{ E error }{}.E},
		{`{"E":null}`, struct{ E error }{}},
		{`"::1"`, netip.MustParseAddr("::1")},
		{`{"::1":1}`, map[netip.Addr]int{netip.MustParseAddr("::1"): 1}},
		{`{"-1":1,"1":2}`, map[int8]int{-1: 1, 1: 2}},
		{`"2024-01-02T03:04:05Z"`, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
	}
	for _, tc := range tests {
		if tc.want == nil {
			var got any = 1
			if err := canon.Unmarshal([]byte(tc.text), &got); err != nil || got != nil {
				t.Errorf("Unmarshal(%s) into any = %#v, %v", tc.text, got, err)
			}
			continue
		}
		p := reflect.New(reflect.TypeOf(tc.want))
		if err := canon.Unmarshal([]byte(tc.text), p.Interface()); err != nil {
			t.Errorf("Unmarshal(%s) into %T: %v", tc.text, tc.want, err)
			continue
		}
		if got := p.Elem().Interface(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Unmarshal(%s) into %T = %#v, want %#v", tc.text, tc.want, got, tc.want)
		}
	}
}

func TestUnmarshalReplaces(t *testing.T) {
	m := map[string]int{"old": 1}
	if err := canon.Unmarshal([]byte(`{"new":2}`), &m); err != nil || !reflect.DeepEqual(m, map[string]int{"new": 2}) {
		t.Errorf("map: %v, %v", m, err)
	}
	s := []int{1, 2, 3}
	if err := canon.Unmarshal([]byte(`[4]`), &s); err != nil || !reflect.DeepEqual(s, []int{4}) {
		t.Errorf("slice: %v, %v", s, err)
	}
	p := ptr(5)
	if err := canon.Unmarshal([]byte(`null`), &p); err != nil || p != nil {
		t.Errorf("pointer: %v, %v", p, err)
	}
}

func TestUnmarshalErrors(t *testing.T) {
	type two struct{ A, B int }
	tests := []struct {
		text   string
		target any    // a pointer to decode into
		want   string // a part of the error message
	}{
		{``, new(any), "offset 0: expected a value, found end of input"},
		{``, new(int), "cannot decode end of input into int"},
		{` 1`, new(int), "cannot decode byte ' ' into int"},
		{`1 `, new(int), "offset 1: unexpected byte ' ' after the value"},
		{`1x`, new(any), "unexpected byte 'x' after the value"},
		{`[1] `, new([]int), "unexpected byte ' '"},
		{`[1, 2]`, new([]int), "cannot decode byte ' ' into int"},
		{`{"a" :1}`, new(map[string]int), "expected ':'"},
		{`[1,]`, new([]int), "cannot decode byte ']' into int"},
		{`[1`, new([]int), "expected ',' or ']' after array element, found end of input"},
		{`{"a":1`, new(map[string]int), "expected ',' or '}'"},
		{`{1:1}`, new(map[string]int), "expected string, found number"},
		{`nul`, new(*int), "cannot decode byte 'n' into int"},
		{`nul`, new(any), "expected a value, found byte 'n'"},
		{`True`, new(bool), "cannot decode byte 'T' into bool"},

		{`1.0`, new(int), "cannot decode 1.0 into int"},
		{`1e+21`, new(int64), "cannot decode 1e+21 into int64"},
		{`256`, new(uint8), "cannot decode 256 into uint8"},
		{`128`, new(int8), "cannot decode 128 into int8"},
		{`-129`, new(int8), "cannot decode -129 into int8"},
		{`-1`, new(uint), "cannot decode -1 into uint"},
		{`18446744073709551616`, new(uint64), "cannot decode 18446744073709551616 into uint64"},
		{`9223372036854775808`, new(int64), "cannot decode 9223372036854775808 into int64"},
		{`18446744073709551616`, new(any), "integer 18446744073709551616 does not fit in an int64 or uint64"},
		{`-9223372036854775809`, new(any), "does not fit"},
		{`01`, new(int), `invalid or non-canonical number "01"`},
		{`-0`, new(int), `invalid or non-canonical number "-0"`},
		{`+1`, new(any), "expected a value, found byte '+'"},
		{`1.50`, new(float64), `non-canonical number "1.50"`},
		{`1.`, new(float64), `non-canonical number "1."`},
		{`.5`, new(float64), "cannot decode byte '.' into float64"},
		{`1E+21`, new(float64), "unexpected byte 'E'"},
		{`1e21`, new(float64), `non-canonical number "1e21"`},
		{`1e+07`, new(float64), `non-canonical number "1e+07"`},
		{`1e+20`, new(float64), `non-canonical number "1e+20"`},
		{`10e+21`, new(float64), `non-canonical number "10e+21"`},
		{`0.0000001`, new(float64), `non-canonical number "0.0000001"`},
		{`-0.0`, new(float64), `non-canonical number "-0.0"`},
		{`0.10000000000000001`, new(float64), "0.10000000000000001 is not the canonical form of a float64 (0.1)"},
		{`0.30000000000000004`, new(float32), "0.30000000000000004 is not the canonical form of a float32 (0.3)"},
		{`1e+39`, new(float32), "1e+39 is out of range for float32"},
		{`1e+400`, new(float64), "1e+400 is out of range for float64"},
		{`1e+1000`, new(any), `non-canonical number "1e+1000"`},
		{`"1"`, new(float64), "cannot decode string into float64"},

		{`1`, new(string), "cannot decode number into string"},
		{`"a`, new(string), "offset 0: unterminated string"},
		{`"\u0041"`, new(string), "offset 1: invalid or non-canonical escape"},
		{`"\u000a"`, new(string), "non-canonical escape"},
		{`"\u001F"`, new(string), "non-canonical escape"},
		{`"\/"`, new(string), "non-canonical escape"},
		{`"\udc7f"`, new(string), "non-canonical escape"},
		{`"\ud800"`, new(string), "non-canonical escape"},
		{`"\udcff`, new(string), "unterminated string"},
		{`"\u00`, new(string), "non-canonical escape"},
		{`"\`, new(string), "non-canonical escape"},
		{`"\udcc3\udca9"`, new(string), `non-canonical string: \udcXX escapes of bytes that form valid UTF-8`},
		{`"\udce2\udc82\udcac"`, new(string), "non-canonical string"},
		{"\"\xff\"", new(string), `offset 1: invalid UTF-8 byte 0xff in string (must be written as \udcff)`},
		{"\"\xed\xa0\x80\"", new(string), "invalid UTF-8 byte 0xed"},
		{"\"a\nb\"", new(string), `unescaped control character '\n' in string`},
		{"\"\x7f\"", new(string), `unescaped control character '\x7f'`},
		{`"a"`, new([]int), "cannot decode string into []int"},
		{`[97]`, new([]byte), "cannot decode array into []uint8"},

		{`[1,2]`, new([3]int), "2 elements for [3]int"},
		{`[1,2,3,4]`, new([3]int), "too many elements for [3]int"},
		{`null`, new([]int), "cannot decode null into []int"},
		{`null`, new(map[string]int), "cannot decode null into map[string]int"},
		{`null`, new(Point), "cannot decode null into canon_test.Point"},
		{`null`, new(int), "cannot decode null into int"},

		{`{"b":1,"a":2}`, new(map[string]int), `offset 7: object key "a" is out of order or repeated (map keys must be sorted)`},
		{`{"a":1,"a":2}`, new(map[string]int), `object key "a" is out of order or repeated`},
		{`{"a!":1,"a":2}`, new(map[string]int), `object key "a" is out of order`},
		{`{"b":1,"a":2}`, new(any), `object key "a" is out of order`},
		{`{"2":1,"10":2}`, new(map[int]int), `object key "10" is out of order`},
		{`{"01":1}`, new(map[int]int), `cannot decode map key "01" into int`},
		{`{"1.0":1}`, new(map[int]int), `cannot decode map key "1.0" into int`},
		{`{"300":1}`, new(map[uint8]int), `cannot decode map key "300" into uint8`},
		{`{"x":1}`, new(map[netip.Addr]int), "cannot decode map key into netip.Addr: UnmarshalText failed"},
		{`{"A":1,"a":2}`, new(map[upper]int), `object key "a" repeats an earlier key of map[canon_test.upper]int`},
		{`{}`, new(map[float64]int), "cannot decode into map[float64]int: map keys of type float64 have no canonical form"},
		{`{}`, new(map[any]int), "map keys of type interface {} have no canonical form"},

		{`{"A":1}`, new(two), "offset 0: missing field \"B\" of canon_test.two"},
		{`{}`, new(two), "missing field \"A\""},
		{`{"B":1,"A":2}`, new(two), `offset 1: unexpected object key "B" for canon_test.two`},
		{`{"A":1,"B":2,"C":3}`, new(two), `unexpected object key "C"`},
		{`{"A":1,"A":2}`, new(two), `unexpected object key "A"`},
		{`{"a":1,"B":2}`, new(two), `unexpected object key "a"`},
		{`{"A":1,"B":2}`, new(unexported), "cannot decode into canon_test.unexported: unexported field b"},
		{`{"Name":1}`, new(Tagged), `unexpected object key "Name"`},
		{`[]`, new(Point), "cannot decode array into canon_test.Point"},

		{`"x"`, new(func()), "cannot decode into func(): functions have no canonical form"},
		{`1`, new(chan int), "channels have no canonical form"},
		{`1`, new(complex128), "complex numbers have no canonical form"},
		{`1`, new(uintptr), "pointer addresses have no canonical form"},
		{`"x"`, new(fmt.Stringer), "cannot decode into fmt.Stringer: only empty interfaces are supported"},
		{`"1"`, new(onlyMarshal), "cannot decode into canon_test.onlyMarshal: it implements encoding.TextMarshaler but not encoding.TextUnmarshaler"},
		{`{"1":1}`, new(map[onlyMarshal]int), "it implements encoding.TextMarshaler but not encoding.TextUnmarshaler"},
		{`1`, new(time.Time), "cannot decode number into time.Time"},
		{`"yesterday"`, new(time.Time), "cannot decode into time.Time: UnmarshalText failed"},
		{`"x"`, new(secret), "UnmarshalText failed: no secret- prefix"},
		{`"x"`, new(*int), "cannot decode string into int"},
	}
	for _, tc := range tests {
		err := canon.Unmarshal([]byte(tc.text), tc.target)
		if err == nil {
			t.Errorf("Unmarshal(%q) into %T succeeded", tc.text, tc.target)
			continue
		}
		if !strings.HasPrefix(err.Error(), "canon: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Unmarshal(%q) into %T:\n got %v\nwant %q", tc.text, tc.target, err, tc.want)
		}
	}
}

func TestUnmarshalBadTarget(t *testing.T) {
	for _, target := range []any{nil, 1, (*int)(nil), "s"} {
		if err := canon.Unmarshal([]byte(`1`), target); err == nil || !strings.Contains(err.Error(), "non-nil pointer") {
			t.Errorf("Unmarshal into %#v: %v", target, err)
		}
	}
}

func TestUnmarshalPointerCycleType(t *testing.T) {
	// A pointer type that points to itself cannot hold a number, and must
	// not recurse forever trying.
	type P *P
	var p P
	if err := canon.Unmarshal([]byte(`1`), &p); err == nil || !strings.Contains(err.Error(), "nested more than 10000 levels deep") {
		t.Errorf("got %v", err)
	}
	if err := canon.Unmarshal([]byte(`null`), &p); err != nil || p != nil {
		t.Errorf("null: %v, %v", p, err)
	}
}

func TestString(t *testing.T) {
	for _, tc := range golden {
		s, isString := tc.key.(string)
		if !isString {
			continue
		}
		got, ok := canon.String([]byte(tc.want))
		if !ok || got != s {
			t.Errorf("String(%s) = %q, %v; want %q", tc.want, got, ok, s)
		}
	}
	ok := map[string]string{
		`""`:               "",
		`"a\udcffb"`:       "a\xffb",
		`"\udced\udca0"`:   "\xed\xa0",
		`"\\udcff"`:        `\udcff`,
		`"\u0000\u007f"`:   "\x00\x7f",
		`"2024-01-02"`:     "2024-01-02",
		"\"\u2028\uFFFD\"": "\u2028\uFFFD",
	}
	for text, want := range ok {
		if got, isString := canon.String([]byte(text)); !isString || got != want {
			t.Errorf("String(%s) = %q, %v; want %q", text, got, isString, want)
		}
	}
	notStrings := []string{
		``, `1`, `1.0`, `null`, `true`, `[]`, `{}`, `["a"]`, `{"a":"b"}`,
		`"`, `"a`, `"a"x`, `"a" `, ` "a"`, `""""`, `"a""b"`,
		`"\u0041"`, `"\udc41"`, `"\udcc3\udca9"`, "\"\xff\"", "\"\t\"", `"\x"`, `'a'`,
	}
	for _, text := range notStrings {
		if got, ok := canon.String([]byte(text)); ok {
			t.Errorf("String(%q) = %q, true; want false", text, got)
		}
	}
}

func TestValid(t *testing.T) {
	for _, tc := range golden {
		if !canon.Valid([]byte(tc.want)) {
			t.Errorf("Valid(%s) = false", tc.want)
		}
		// Every proper prefix of a string, array or object is invalid.
		if strings.ContainsAny(tc.want[len(tc.want)-1:], `"]}`) {
			for i := range len(tc.want) {
				if canon.Valid([]byte(tc.want[:i])) {
					t.Errorf("Valid(%s) = true", tc.want[:i])
				}
			}
		}
	}
	valid := []string{
		`{"b":1,"a":2}`, // struct field order
		`0.0`, `-1.5`, `0.000001`, `1e-7`, `9.999999e-7`, `1e+21`, `-5e-324`, `123456789012345680000.0`,
		`[{"a":[null,true,false,"x",{}]}]`,
	}
	for _, text := range valid {
		if !canon.Valid([]byte(text)) {
			t.Errorf("Valid(%s) = false", text)
		}
	}
	invalid := []string{
		``, ` `, `nul`, `nulll`, `truefalse`, `[1,]`, `[,1]`, `[1 ]`, `{"a":1,}`, `{"a"}`, `{a:1}`,
		`{"a":1,"a":2}`, `{"b":1,"a":2,"b":3}`, `[1]]`, `1 `, "\t1", `{"a" :1}`, `"\/"`, `"\u00e9"`,
		`01`, `-0`, `+1`, `.5`, `1.`, `1.50`, `1E+21`, `1e21`, `1e+021`, `1e+07`, `1e+20`, `1e-6`,
		`1.0e+21`, `10e+21`, `0e+21`, `0.0000001`, `-0.0`, `0.00`, `1234567890123456789012.0`,
		`NaN`, `Infinity`, `-`, `1e+`, `1e+9999`, "\"\xff\"", `"\udcc3\udca9"`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	}
	for _, text := range invalid {
		if canon.Valid([]byte(text)) {
			t.Errorf("Valid(%q) = true", text)
		}
	}
}
