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
