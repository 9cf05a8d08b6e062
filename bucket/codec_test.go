package bucket

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

type point struct {
	X, Y int
	Tags []string
}

func TestCodecsRoundTrip(t *testing.T) {
	for _, c := range []Codec{JSON, Gob, MessagePack} {
		t.Run(c.Name(), func(t *testing.T) {
			b := open[string, point](t, t.TempDir(), Options{Codec: c})
			want := point{1, 2, []string{"a"}}
			b.Set("p", want)
			for i := 0; i < 2; i++ {
				got, err := b.Get("p")
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("read %d: %+v %v", i, got, err)
				}
				b.Unload("p")
			}
		})
	}
}

func TestRawCodec(t *testing.T) {
	bs := open[string, []byte](t, t.TempDir(), Options{Codec: Raw})
	bs.Set("b", []byte{0, 1, 255})
	if v, _ := bs.Get("b"); string(v) != "\x00\x01\xff" {
		t.Fatalf("%q", v)
	}
	bs.Set("empty", []byte{})
	if v, err := bs.Get("empty"); v == nil || len(v) != 0 || err != nil {
		t.Fatalf("empty: %#v %v", v, err)
	}
	// Set takes no reference to the caller's slice, warm or cold.
	mine := []byte("original")
	bs.Set("mine", mine)
	copy(mine, "CHANGED!")
	if v, _ := bs.Get("mine"); string(v) != "original" {
		t.Fatalf("a change to the caller's slice after Set reached the bucket: %q", v)
	}
	bs.Unload("mine")
	if v, _ := bs.Get("mine"); string(v) != "original" {
		t.Fatalf("on disk: %q", v)
	}
	type text string
	ts := open[string, text](t, t.TempDir(), Options{Codec: Raw})
	ts.Set("t", "hello")
	if v, _ := ts.Get("t"); v != "hello" {
		t.Fatalf("%q", v)
	}
}

func TestReadsEntriesOfEveryBuiltinCodec(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []Codec{JSON, Gob, MessagePack} {
		w := open[string, point](t, dir, Options{Codec: c})
		w.Set(c.Name(), point{X: len(c.Name())})
	}
	r := open[string, point](t, dir, Options{Codec: JSON})
	for _, c := range []Codec{JSON, Gob, MessagePack} {
		if got, err := r.Get(c.Name()); err != nil || got.X != len(c.Name()) {
			t.Fatalf("entry written with %s: %+v %v", c.Name(), got, err)
		}
	}
}

type upperCodec struct{}

func (upperCodec) Name() string                       { return "custom-json" }
func (upperCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (upperCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

func TestCustomCodecAndUnknownCodec(t *testing.T) {
	dir := t.TempDir()
	custom := open[string, int](t, dir, Options{Codec: upperCodec{}})
	custom.Set("k", 5)
	if v, err := custom.Get("k"); v != 5 || err != nil {
		t.Fatal(v, err)
	}
	plain := open[string, int](t, dir, Options{})
	_, err := plain.Get("k")
	if err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("entry of an unknown codec: %v", err)
	}
}

func equalJSON(t *testing.T, a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return string(ja) == string(jb) && reflect.DeepEqual(a, b)
}
