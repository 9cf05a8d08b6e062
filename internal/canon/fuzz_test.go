package canon_test

import (
	"bytes"
	"testing"

	"github.com/bucketcache/bucketcache/internal/canon"
)

func FuzzRoundTripString(f *testing.F) {
	for _, s := range []string{"", "a", "\xff", "a\xc0b", "\xed\xa0\x80", `\udcff`, "\"\\\n\x00\x7f", "€\xe2\x82", "\uFFFD"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkString(t, s)
		b, _ := canon.Marshal(s)
		var v any
		if err := canon.Unmarshal(b, &v); err != nil || v != s {
			t.Fatalf("Unmarshal(Marshal(%q)) into any = %#v, %v", s, v, err)
		}
	})
}

// fuzzKey is a struct key for FuzzUnmarshal.
type fuzzKey struct {
	S string
	N int8
	F float32
	B []byte
	L []uint64
	M map[int]string
	P *Point
	A any
}

func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{
		`null`, `true`, `-12`, `18446744073709551615`, `1.5e-7`, `0.1`, `"a\udcffb"`, `[1,[],{}]`, `{"a":1,"b":2}`,
		`{"S":"s","N":-1,"F":0.1,"B":"\u0000","L":[1],"M":{"-1":"x","2":""},"P":{"X":1,"Y":2},"A":[null]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		valid := canon.Valid(data)

		var v any
		if err := canon.Unmarshal(data, &v); err == nil {
			b, err := canon.Marshal(v)
			if err != nil || !bytes.Equal(b, data) {
				t.Fatalf("Unmarshal(%q) into any = %#v, which encodes as %q (%v)", data, v, b, err)
			}
			if !valid {
				t.Fatalf("Unmarshal(%q) into any succeeded but Valid is false", data)
			}
		}

		var m map[string]int
		if err := canon.Unmarshal(data, &m); err == nil {
			b, err := canon.Marshal(m)
			if err != nil || !bytes.Equal(b, data) {
				t.Fatalf("Unmarshal(%q) into map = %#v, which encodes as %q (%v)", data, m, b, err)
			}
			if !valid {
				t.Fatalf("Unmarshal(%q) into map succeeded but Valid is false", data)
			}
		}

		var k fuzzKey
		if err := canon.Unmarshal(data, &k); err == nil {
			if !valid {
				t.Fatalf("Unmarshal(%q) into struct succeeded but Valid is false", data)
			}
			// Integer literals may decode into floats, so compare the
			// re-encoded key with its own round trip.
			checkRoundTrip(t, k)
		}

		if s, ok := canon.String(data); ok {
			b, err := canon.Marshal(s)
			if err != nil || !bytes.Equal(b, data) {
				t.Fatalf("String(%q) = %q, which encodes as %q (%v)", data, s, b, err)
			}
		}
	})
}
