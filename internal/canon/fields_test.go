package canon_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/bucketcache/bucketcache/internal/canon"
)

// TestFieldsAreWhatMarshalWrites: the fields Fields reports, written with
// their names and values, are Marshal's output; with omit, the omitted fields
// are neither written nor refused.
func TestFieldsAreWhatMarshalWrites(t *testing.T) {
	v := Tagged{Name: "n", Skip: 1, Dash: 2, Opt: 3, Quoted: "q"}
	fields, err := canon.Fields(reflect.TypeOf(v))
	if err != nil {
		t.Fatal(err)
	}
	rv := reflect.ValueOf(v)
	got := []byte{'{'}
	var names []string
	for i, f := range fields {
		if i > 0 {
			got = append(got, ',')
		}
		got = f.AppendName(got)
		got, err = canon.AppendMarshal(got, rv.Field(f.Index).Interface())
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, f.Name)
	}
	got = append(got, '}')
	want, err := canon.Marshal(v)
	if err != nil || string(got) != string(want) {
		t.Fatalf("fields give %s, Marshal %s (%v)", got, want, err)
	}
	if !reflect.DeepEqual(names, []string{"name", "-", "Opt", `a"b`}) {
		t.Fatalf("names %q", names)
	}
	again, _ := canon.Fields(reflect.TypeOf(v))
	if &again[0] != &fields[0] {
		t.Error("the fields of a type were walked again")
	}

	for _, tc := range []struct {
		typ    reflect.Type
		omit   []int
		fields []string // nil: refused
	}{
		{reflect.TypeFor[unexported](), nil, nil},
		{reflect.TypeFor[unexported](), []int{1}, []string{"A"}},
		{reflect.TypeFor[unexportedDash](), nil, nil},
		{reflect.TypeFor[unexportedDash](), []int{1}, []string{"A"}},
		{reflect.TypeFor[dupFieldAndTag](), nil, nil},
		{reflect.TypeFor[dupFieldAndTag](), []int{0}, []string{"A"}},
		{reflect.TypeFor[Outer](), nil, []string{"Inner", "Point", "B"}},
		{reflect.TypeFor[Outer](), []int{0, 2}, []string{"Point"}},
		{reflect.TypeFor[int](), nil, nil},
	} {
		fields, err := canon.Fields(tc.typ, tc.omit...)
		var names []string
		for _, f := range fields {
			names = append(names, f.Name)
		}
		var u *canon.UnsupportedError
		switch {
		case tc.fields == nil && !errors.As(err, &u):
			t.Errorf("Fields(%v, %v) = %q, %v; want an *UnsupportedError", tc.typ, tc.omit, names, err)
		case tc.fields != nil && (err != nil || !reflect.DeepEqual(names, tc.fields)):
			t.Errorf("Fields(%v, %v) = %q, %v; want %q", tc.typ, tc.omit, names, err, tc.fields)
		}
	}
}
