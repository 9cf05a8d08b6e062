package view

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bucketcache/bucketcache/internal/canon"
	"github.com/bucketcache/bucketcache/shard"
)

func mustKey(t testing.TB, v any) []byte {
	t.Helper()
	b, err := canon.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNameTable(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		key  any
		want string
	}{
		{"hello", "hello"},
		{"7", "7"},
		{7, "=7"},
		{"=7", "%3D7"},
		{"a=b", "a=b"},
		{"a/b", "a%2Fb"},
		{"../../x", "..%2F..%2Fx"},
		{"100%", "100%25"},
		{"nul\x00byte", "nul%00byte"},
		{"line\nbreak", "line%0Abreak"},
		{"del\x7f", "del%7F"},
		{"c1\u0085", "c1%C2%85"},
		{"bad\xffutf8", "bad%FFutf8"},
		{"héllo wörld ☃", "héllo wörld ☃"},
		{"", `=""`},
		{".", `="."`},
		{"..", `=".."`},
		{"...", "..."},
		{"~", "~"},
		{"a~0123456789abcdef", "a%7E0123456789abcdef"},
		{"a~0123456789ABCDEF", "a~0123456789ABCDEF"},
		{true, "=true"},
		{nil, "=null"},
		{1.5, "=1.5"},
		{[]int{1, 2}, "=[1,2]"},
		{map[string]string{"a/b": "%"}, `={"a%2Fb":"%25"}`},
		{struct{ A, B int }{1, 2}, `={"A":1,"B":2}`},
		{[]string{"x\ny"}, `=["x\ny"]`},
	}
	for _, tt := range tests {
		key := mustKey(t, tt.key)
		got := Name(key)
		if got != tt.want {
			t.Errorf("Name(%s) = %q, want %q", key, got, tt.want)
		}
		checkName(t, key, got)
	}
	// A long string is shortened, keeping a prefix and the hash.
	key := mustKey(t, long)
	got := Name(key)
	if len(got) > MaxName || !strings.HasPrefix(got, strings.Repeat("x", 200)) || !strings.HasSuffix(got, "~"+hex16(shard.Hash(key))) {
		t.Errorf("Name(long) = %q", got)
	}
	checkName(t, key, got)
}

// checkName asserts that name is a usable file name and parses back to key.
func checkName(t testing.TB, key []byte, name string) {
	t.Helper()
	if name == "" || name == "." || name == ".." || len(name) > MaxName {
		t.Fatalf("Name(%q) = %q: not a usable file name", key, name)
	}
	if !utf8.ValidString(name) || strings.ContainsAny(name, "/\x00\n\r") {
		t.Fatalf("Name(%q) = %q: invalid characters", key, name)
	}
	p, ok := ParseName(name)
	if !ok {
		t.Fatalf("ParseName(%q) failed (key %q)", name, key)
	}
	if p.Hash != shard.Hash(key) {
		t.Fatalf("ParseName(%q).Hash = %x, want %x", name, p.Hash, shard.Hash(key))
	}
	if !p.Short && !bytes.Equal(p.Key, key) {
		t.Fatalf("ParseName(%q).Key = %q, want %q", name, p.Key, key)
	}
	if p.Short != (len(fullName(key)) > MaxName) {
		t.Fatalf("ParseName(%q).Short = %v", name, p.Short)
	}
}

func TestNamesDistinct(t *testing.T) {
	keys := []any{"7", 7, "=7", "7.0", 7.0, "true", true, "null", nil, `"7"`, "%37", "[1]", []int{1},
		"", ".", "..", `""`, `"."`, "=", "%3D", "a/b", "a%2Fb", "a~0123456789abcdef", "a%7E0123456789abcdef"}
	seen := map[string]any{}
	for _, k := range keys {
		n := Name(mustKey(t, k))
		if prev, dup := seen[n]; dup {
			t.Errorf("keys %#v and %#v share the name %q", prev, k, n)
		}
		seen[n] = k
	}
}

func TestShortNamesNeverSplitEscapes(t *testing.T) {
	// Every alignment of a 3-byte escape and a 3-byte character across the cut.
	for pad := 0; pad < 6; pad++ {
		for _, unit := range []string{"/", "☃", "\xff", "é"} {
			s := strings.Repeat("a", pad) + strings.Repeat(unit, 300)
			key := mustKey(t, s)
			name := Name(key)
			checkName(t, key, name)
			prefix := name[:len(name)-17]
			if _, ok := unescape(prefix); !ok {
				t.Errorf("pad %d unit %q: prefix %q splits an escape", pad, unit, prefix)
			}
		}
	}
}

func TestParseNameRejectsOtherSpellings(t *testing.T) {
	for _, name := range []string{
		"", ".", "..", "%61", "%2f", "a%", "a%4", "%3D", "=%", "a~0123456789abcdef",
		strings.Repeat("a", 256), "=" + `"x"`, "%7E", "=7.00",
	} {
		p, ok := ParseName(name)
		if name == "%3D" || name == "=7.00" {
			// These are canonical names of keys ("=" and the bytes 7.00).
			if !ok || Name(p.Key) != name {
				t.Errorf("ParseName(%q) = %v, %v; want the key back", name, p, ok)
			}
			continue
		}
		if ok && !p.Short {
			t.Errorf("ParseName(%q) = %q, want failure", name, p.Key)
		}
		if name == "a~0123456789abcdef" && (!ok || !p.Short) {
			t.Errorf("ParseName(%q) = %v, %v; want a shortened name", name, p, ok)
		}
	}
}

// FuzzName checks, for any key bytes, that Name gives a usable file name
// that ParseName reverses, and that ParseName never accepts a name that Name
// would not give.
func FuzzName(f *testing.F) {
	for _, k := range []any{"x", 7, "a/b", "", ".", "..", "=x", "\x00", "\xff", strings.Repeat("é/", 200), []int{1}} {
		f.Add(mustKey(f, k), "")
	}
	f.Add([]byte("not json"), "=not json")
	f.Add([]byte{}, "%41")
	f.Fuzz(func(t *testing.T, key []byte, name string) {
		checkName(t, key, Name(key))
		if p, ok := ParseName(name); ok && !p.Short && Name(p.Key) != name {
			t.Fatalf("ParseName(%q) = %q, whose name is %q", name, p.Key, Name(p.Key))
		}
	})
}
