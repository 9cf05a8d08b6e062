package canon_test

import (
	"flag"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bucketcache/bucketcache/internal/canon"
)

var seedFlag = flag.Uint64("canon.seed", 0, "seed for the random tests (0: pick one)")

// newRand returns a seeded random source and logs the seed.
func newRand(t *testing.T) *rand.Rand {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -canon.seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed))
}

// checkRoundTrip checks the canonical round-trip property for key: decoding
// its bytes into a new value of its type and encoding that gives the same
// bytes. It returns the decoded value.
func checkRoundTrip(t *testing.T, key any) any {
	t.Helper()
	b, err := canon.Marshal(key)
	if err != nil {
		t.Errorf("Marshal(%#v): %v", key, err)
		return nil
	}
	p := reflect.New(reflect.TypeOf(key))
	if err := canon.Unmarshal(b, p.Interface()); err != nil {
		t.Errorf("Unmarshal(%s) into %T: %v", b, key, err)
		return nil
	}
	got := p.Elem().Interface()
	b2, err := canon.Marshal(got)
	if err != nil || string(b2) != string(b) {
		t.Errorf("round trip of %T:\n  %s\n  %s (%v)", key, b, b2, err)
	}
	if !canon.Valid(b) {
		t.Errorf("Valid(%s) = false", b)
	}
	return got
}

func TestRoundTripGolden(t *testing.T) {
	decodedAsAny := 0
	for _, tc := range golden {
		if tc.key != nil {
			checkRoundTrip(t, tc.key)
		}
		// Into an empty interface, whenever the text allows it.
		var v any
		if err := canon.Unmarshal([]byte(tc.want), &v); err != nil {
			continue
		}
		decodedAsAny++
		b, err := canon.Marshal(v)
		if err != nil || string(b) != tc.want {
			t.Errorf("%s: via any: %s (%v), want %s", tc.name, b, err, tc.want)
		}
	}
	if decodedAsAny < len(golden)*3/4 {
		t.Errorf("only %d of %d golden texts decode into an interface", decodedAsAny, len(golden))
	}
}

func TestRoundTripExact(t *testing.T) {
	// Keys that decode to a value deeply equal to themselves.
	keys := []any{
		true, int8(-5), int16(300), int32(-70000), int64(math.MinInt64), 42,
		uint8(200), uint16(60000), uint32(4e9), uint64(math.MaxUint64), uint(7),
		0.1, -2.5e-300, math.MaxFloat64, float32(0.1), float32(-3.4e38), float32(1e-45),
		"", "plain", "\x00\x1f\x7f\"\\", "\xff\xfe", "a\xc0b", "\xed\xa0\x80", "€\xe2\x82", `\udcff`,
		[]byte("bytes\xff"), Bytes("named"), []Byte{1, 2},
		[]int{1, 2, 3}, [3]int{4, 5, 6}, [2]byte{7, 8}, []string{"a", "b"},
		map[string]int{"a": 1, "b": 2}, map[int64]string{-1: "x", 1 << 40: "y"},
		map[uint16][]int{1: {2}}, map[Name]Name{"k": "v"},
		Point{1, 2}, &Point{3, 4}, Outer{Inner{1}, &Point{2, 3}, "b"},
		Tagged{Name: "n", Dash: 2, Opt: 3, Quoted: "q"},
		struct{ V any }{"s"}, struct{ V any }{int64(5)}, struct{ V any }{[]any{1.5, nil, true}},
		ptr(ptr(9)), []*int{nil, ptr(1)},
		time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC),
		secret{42}, upper("abc"), map[upper]int{"k": 1},
	}
	for _, key := range keys {
		got := checkRoundTrip(t, key)
		if got != nil && !reflect.DeepEqual(got, key) {
			t.Errorf("round trip of %#v gave %#v", key, got)
		}
	}
}

func TestRoundTripNormalized(t *testing.T) {
	// Keys that decode to a different value with the same bytes.
	tests := []struct{ key, want any }{
		{[]int(nil), []int{}},
		{map[string]int(nil), map[string]int{}},
		{[]byte(nil), []byte{}},
		{math.Copysign(0, -1), 0.0},
		{upper("MiXed"), upper("mixed")},
		{&selfRef{F: 1, P: ptr(1)}, &selfRef{F: 1, P: ptr(1)}},
	}
	for _, tc := range tests {
		if got := checkRoundTrip(t, tc.key); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("round trip of %#v gave %#v, want %#v", tc.key, got, tc.want)
		}
	}
}

func TestRoundTripInterface(t *testing.T) {
	tests := []struct {
		text string
		want any
	}{
		{`null`, nil},
		{`true`, true},
		{`1`, int64(1)},
		{`-9223372036854775808`, int64(math.MinInt64)},
		{`9223372036854775807`, int64(math.MaxInt64)},
		{`9223372036854775808`, uint64(1 << 63)},
		{`18446744073709551615`, uint64(math.MaxUint64)},
		{`1.0`, 1.0},
		{`1e+21`, 1e21},
		{`"a\udcffb"`, "a\xffb"},
		{`[]`, []any{}},
		{`[1,"a",null,[{}]]`, []any{int64(1), "a", nil, []any{map[string]any{}}}},
		{`{"a":{"b":[]},"c":0.5}`, map[string]any{"a": map[string]any{"b": []any{}}, "c": 0.5}},
	}
	for _, tc := range tests {
		var got any = "not overwritten"
		if err := canon.Unmarshal([]byte(tc.text), &got); err != nil {
			t.Errorf("Unmarshal(%s): %v", tc.text, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Unmarshal(%s) = %#v, want %#v", tc.text, got, tc.want)
		}
		b, err := canon.Marshal(got)
		if err != nil || string(b) != tc.text {
			t.Errorf("Marshal(Unmarshal(%s)) = %s, %v", tc.text, b, err)
		}
	}
}

// randomString returns a string mixing ASCII, escapes, valid and invalid
// UTF-8.
func randomString(r *rand.Rand, maxLen int) string {
	var b strings.Builder
	n := r.IntN(maxLen + 1)
	for b.Len() < n {
		switch r.IntN(9) {
		case 0:
			b.WriteByte(byte(r.IntN(256)))
		case 1:
			b.WriteByte(byte(0x20 + r.IntN(0x5f)))
		case 2:
			b.WriteByte(byte(r.IntN(0x20)))
		case 3:
			b.WriteRune(rune(r.IntN(utf8.MaxRune + 1))) // surrogates become U+FFFD
		case 4:
			var buf [4]byte
			k := utf8.EncodeRune(buf[:], rune(0x80+r.IntN(utf8.MaxRune-0x80)))
			b.Write(buf[:1+r.IntN(k)]) // possibly truncated
		case 5:
			b.Write([]byte{0xed, byte(0xa0 + r.IntN(0x20)), byte(0x80 + r.IntN(0x40))}) // encoded surrogate
		case 6:
			b.WriteString([]string{`"`, `\`, `\udc`, "\x7f", "\uFFFD", "\u2028", "/"}[r.IntN(7)])
		case 7:
			b.WriteByte(byte(0x80 + r.IntN(0x80)))
		case 8:
			b.WriteString("é")
		}
	}
	return b.String()
}

// checkString checks that s round-trips through Marshal, Unmarshal and
// String, as a string and as a []byte.
func checkString(t *testing.T, s string) {
	t.Helper()
	b, err := canon.Marshal(s)
	if err != nil {
		t.Fatalf("Marshal(%q): %v", s, err)
	}
	var got string
	if err := canon.Unmarshal(b, &got); err != nil || got != s {
		t.Fatalf("Unmarshal(Marshal(%q)) = %q, %v", s, got, err)
	}
	if got, ok := canon.String(b); !ok || got != s {
		t.Fatalf("String(Marshal(%q)) = %q, %v", s, got, ok)
	}
	if !utf8.Valid(b) || !canon.Valid(b) {
		t.Fatalf("Marshal(%q) = %q is not valid UTF-8 and canonical text", s, b)
	}
	bb, err := canon.Marshal([]byte(s))
	if err != nil || string(bb) != string(b) {
		t.Fatalf("Marshal([]byte(%q)) = %s, %v; want %s", s, bb, err, b)
	}
	var gotBytes []byte
	if err := canon.Unmarshal(b, &gotBytes); err != nil || string(gotBytes) != s {
		t.Fatalf("Unmarshal(Marshal(%q)) into []byte = %q, %v", s, gotBytes, err)
	}
}

func TestRandomStrings(t *testing.T) {
	r := newRand(t)
	seen := make(map[string]string)
	for range 20000 {
		s := randomString(r, 40)
		checkString(t, s)
		b, _ := canon.Marshal(s)
		if other, dup := seen[string(b)]; dup && other != s {
			t.Fatalf("%q and %q both encode as %s", s, other, b)
		}
		seen[string(b)] = s
	}
}

// TestLargeStrings round-trips strings of the size of the largest keys the
// package promises to take (1 MiB). Under the race detector, whose shadow
// memory makes every pass over a megabyte slow, it uses 64 KiB: the encoder
// and decoder have no size threshold, so the code paths are the same, and
// the 1 MiB keys of the bucket and stress tests still go through canon with
// the race detector on.
func TestLargeStrings(t *testing.T) {
	r := newRand(t)
	size := 1 << 20
	if raceEnabled {
		size = 64 << 10
	}
	random := make([]byte, size)
	for i := range random {
		random[i] = byte(r.IntN(256))
	}
	checkString(t, string(random))
	checkString(t, strings.Repeat("abcdefgh", size/8))
	checkString(t, strings.Repeat("\xff", size))
	checkString(t, randomString(r, size))
}

// Rich is a key type with one field of each kind.
type Rich struct {
	S   string
	B   []byte
	I   int64
	U   uint32
	F   float64
	F32 float32
	P   *int16
	L   []string
	M   map[string]int
	MI  map[int8]bool
	A   [2]uint8
	T   time.Time
	Any any
	Sub *Rich
}

func randomRich(r *rand.Rand, depth int) *Rich {
	v := &Rich{
		S:   randomString(r, 10),
		I:   r.Int64() - r.Int64(),
		U:   r.Uint32(),
		F:   math.Float64frombits(r.Uint64()),
		F32: math.Float32frombits(r.Uint32()),
		A:   [2]uint8{uint8(r.Uint32()), uint8(r.Uint32())},
		T:   time.Unix(r.Int64N(1e10), r.Int64N(1e9)).UTC(),
		Any: randomAny(r, 3),
	}
	if math.IsNaN(v.F) || math.IsInf(v.F, 0) {
		v.F = 0
	}
	if math.IsNaN(float64(v.F32)) || math.IsInf(float64(v.F32), 0) {
		v.F32 = 1
	}
	if r.IntN(2) == 0 {
		v.B = []byte(randomString(r, 10))
		v.P = ptr(int16(r.Uint32()))
	}
	for range r.IntN(4) {
		v.L = append(v.L, randomString(r, 5))
	}
	if r.IntN(2) == 0 {
		v.M = make(map[string]int)
		v.MI = make(map[int8]bool)
		for range r.IntN(5) {
			v.M[randomString(r, 5)] = r.Int()
			v.MI[int8(r.Uint32())] = r.IntN(2) == 0
		}
	}
	if depth > 0 && r.IntN(2) == 0 {
		v.Sub = randomRich(r, depth-1)
	}
	return v
}

// randomAny returns a value of a type that an empty interface decodes to.
func randomAny(r *rand.Rand, depth int) any {
	switch r.IntN(9) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return r.Int64() - r.Int64()
	case 3:
		return uint64(1<<63) + r.Uint64N(1<<63)
	case 4:
		if f := math.Float64frombits(r.Uint64()); !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
		return 0.5
	case 5:
		return randomString(r, 8)
	case 6:
		if depth > 0 {
			a := []any{}
			for range r.IntN(4) {
				a = append(a, randomAny(r, depth-1))
			}
			return a
		}
	case 7:
		if depth > 0 {
			m := map[string]any{}
			for range r.IntN(4) {
				m[randomString(r, 4)] = randomAny(r, depth-1)
			}
			return m
		}
	}
	return "leaf"
}

func TestRandomValues(t *testing.T) {
	r := newRand(t)
	for range 2000 {
		v := randomRich(r, 2)
		checkRoundTrip(t, v)
		checkRoundTrip(t, *v)
		a := randomAny(r, 4)
		if a != nil {
			got := checkRoundTrip(t, a)
			if !reflect.DeepEqual(got, a) {
				t.Fatalf("round trip of %#v gave %#v", a, got)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
	}
}

func TestConcurrent(t *testing.T) {
	// The type cache is shared; run with -race.
	done := make(chan bool)
	for i := range 8 {
		go func() {
			defer func() { done <- true }()
			for j := range 200 {
				key := struct {
					R Rich
					N int
				}{Rich{S: "x", MI: map[int8]bool{int8(j): true}}, i}
				b, err := canon.Marshal(key)
				if err != nil {
					t.Error(err)
					return
				}
				if err := canon.Unmarshal(b, &key); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
}

func TestFloat32TextIsFloat64Text(t *testing.T) {
	// A float32 key decoded into an empty interface becomes a float64 and
	// must encode alike. (This holds for every float32; the test samples.)
	r := newRand(t)
	for i := range 200000 {
		f := math.Float32frombits(r.Uint32())
		if i < 64 {
			f = math.Float32frombits(uint32(i)) // the smallest subnormals
		}
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			continue
		}
		b, err := canon.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := canon.Unmarshal(b, &v); err != nil {
			t.Fatalf("Unmarshal(%s) into any: %v", b, err)
		}
		if b2, err := canon.Marshal(v); err != nil || string(b2) != string(b) {
			t.Fatalf("float32 %s became float64 %s (%v)", b, b2, err)
		}
	}
}
