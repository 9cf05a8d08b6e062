package bucket

import (
	"reflect"
	"testing"
	"time"
)

type node struct {
	Name     string
	Children []*node
	Attrs    map[string]any
}

type hidden struct {
	Visible []int
	secret  []int
}

type hiddenPlain struct {
	Visible []int
	count   int
}

func TestDeepCopySharesNothing(t *testing.T) {
	orig := node{
		Name:     "root",
		Children: []*node{{Name: "leaf", Attrs: map[string]any{"n": 1.0}}},
		Attrs:    map[string]any{"list": []any{"a", map[string]any{"x": true}}},
	}
	c, ok := deepCopy(orig)
	if !ok || !reflect.DeepEqual(c, orig) {
		t.Fatalf("copy %+v %v", c, ok)
	}
	c.Children[0].Name = "changed"
	c.Children[0].Attrs["n"] = 2.0
	c.Attrs["list"].([]any)[1].(map[string]any)["x"] = false
	if orig.Children[0].Name != "leaf" || orig.Children[0].Attrs["n"] != 1.0 ||
		orig.Attrs["list"].([]any)[1].(map[string]any)["x"] != true {
		t.Fatalf("copy shares memory with the original: %+v", orig)
	}
}

func TestCopyModes(t *testing.T) {
	cases := []struct {
		v    any
		mode copyMode
	}{
		{1, copyPlain},
		{"s", copyPlain},
		{[3]int{}, copyPlain},
		{time.Time{}, copyPlain},
		{struct{ A, B int }{}, copyPlain},
		{[]int{}, copyDeep},
		{map[string]int{}, copyDeep},
		{node{}, copyDeep},
		{hiddenPlain{}, copyDeep},
		{hidden{}, copyNever},
		{make(chan int), copyNever},
		{func() {}, copyNever},
	}
	for _, c := range cases {
		if got := modeOf(reflect.TypeOf(c.v)); got != c.mode {
			t.Errorf("%T: mode %d, want %d", c.v, got, c.mode)
		}
	}
	if _, ok := deepCopy(hidden{Visible: []int{1}}); ok {
		t.Fatal("a hidden reference must not be copied")
	}
	var ifc any = make(chan int)
	if _, ok := deepCopy(ifc); ok {
		t.Fatal("a channel inside an interface must not be copied")
	}
	hp, ok := deepCopy(hiddenPlain{Visible: []int{1}, count: 3})
	if !ok || hp.count != 3 || hp.Visible[0] != 1 {
		t.Fatalf("unexported plain field lost: %+v", hp)
	}
}

func TestWarmReadOfUncopyableTypeDecodesAgain(t *testing.T) {
	b := open[string, hidden](t, t.TempDir(), Options{Codec: Gob})
	if err := b.Set("k", hidden{Visible: []int{1}}); err != nil {
		t.Fatal(err)
	}
	v1, _ := b.Get("k")
	v1.Visible[0] = 9
	v2, err := b.Get("k")
	if err != nil || v2.Visible[0] != 1 {
		t.Fatalf("warm read of a type that cannot be copied: %+v %v", v2, err)
	}
}

type blob []byte

func TestDeepCopyOfBytes(t *testing.T) {
	type msg struct {
		Body blob
		Raw  []byte
		Nil  []byte
	}
	orig := msg{Body: blob("hello"), Raw: []byte{1, 2, 3}}
	c, ok := deepCopy(orig)
	if !ok || string(c.Body) != "hello" || len(c.Raw) != 3 || c.Nil != nil {
		t.Fatalf("copy %+v %v", c, ok)
	}
	c.Body[0], c.Raw[0] = 'J', 9
	if string(orig.Body) != "hello" || orig.Raw[0] != 1 {
		t.Fatal("byte slices shared with the original")
	}
}

// A copy keeps nil slices nil and empty ones empty, as decoding makes them,
// and writing into a copy's slices leaves the original alone.
func TestDeepCopyOfSlices(t *testing.T) {
	type rec struct {
		Nil   []int
		Empty []string
		Full  []string
		Inner [][]int
	}
	orig := rec{Empty: []string{}, Full: []string{"a", "b"}, Inner: [][]int{{1, 2}, nil, {}}}
	c, ok := deepCopy(orig)
	if !ok || !reflect.DeepEqual(c, orig) {
		t.Fatalf("copy %#v %v, want %#v", c, ok, orig)
	}
	if c.Nil != nil || c.Empty == nil || c.Inner[1] != nil || c.Inner[2] == nil {
		t.Fatalf("copy changed nil or empty slices: %#v", c)
	}
	c.Full[0], c.Inner[0][0] = "changed", 9
	c.Full = append(c.Full, "more")
	if orig.Full[0] != "a" || orig.Inner[0][0] != 1 || len(orig.Full) != 2 {
		t.Fatalf("copy shares memory with the original: %#v", orig)
	}
}

// A warm Get allocates only what the caller's copy holds: nothing for a
// plain struct, the slice's array for a struct with one slice, and the
// bytes for a []byte.
func TestWarmGetAllocations(t *testing.T) {
	type plain struct {
		ID   int
		Name string
	}
	check := func(name string, want float64, get func()) {
		t.Helper()
		if raceEnabled {
			want++ // its pools drop a share of the buffers they are given
		}
		get() // into memory
		if got := testing.AllocsPerRun(200, get); got > want {
			t.Errorf("%s: a warm Get allocates %v times, want at most %v", name, got, want)
		}
	}
	dir := t.TempDir()
	p := open[string, plain](t, dir+"/plain", Options{})
	p.Set("k", plain{1, "one"})
	check("plain struct", 0, func() { p.Get("k") })
	s := open[string, small](t, dir+"/small", Options{})
	s.Set("k", smallValue)
	check("struct with a slice", 1, func() { s.Get("k") })
	b := open[string, []byte](t, dir+"/bytes", Options{})
	b.Set("k", make([]byte, 4<<10))
	check("[]byte", 1, func() { b.Get("k") })
}
