package bucket

import (
	"errors"
	"testing"

	"github.com/bucketcache/bucketcache/internal/canon"
)

// keyShape is a case of TestMemoKeysWalkFieldsLikeKeys.
type keyShape struct {
	name  string
	check func(t *testing.T)
}

// shape checks that the memo key of a, with the field named ignore left out
// by Ignore, is the canonical key of b (a's type without that field), or
// that both are refused for the same reason.
func shape[A, B any](name string, a A, ignore string, b B) keyShape {
	return keyShape{name, func(t *testing.T) {
		want, wantErr := canon.Marshal(b)
		k, err := newMemoKeyer[A]("f", "", DefaultKeyMaker, []string{ignore})
		var got []byte
		if err == nil {
			got, err = k.key(nil, a)
		}
		switch {
		case wantErr != nil && err != nil:
			var we, ge *canon.UnsupportedError
			if !errors.As(wantErr, &we) || !errors.As(err, &ge) || we.Reason != ge.Reason {
				t.Fatalf("refused for different reasons:\nkey:      %v\nmemo key: %v", wantErr, err)
			}
		case wantErr != nil:
			t.Fatalf("the key is refused (%v) but the memo key is %s", wantErr, got)
		case err != nil:
			t.Fatalf("the key is %s but the memo key is refused: %v", want, err)
		case string(got) != string(k.prefix)+string(want):
			t.Fatalf("memo key %s, want %s%s", got, k.prefix, want)
		}
	}}
}

// TestMemoKeysWalkFieldsLikeKeys: leaving a field out with Ignore gives the
// key of the same struct without that field, by the one walk of struct
// fields that keys use (package canon's).
func TestMemoKeysWalkFieldsLikeKeys(t *testing.T) {
	type Inner struct{ A int }
	type inner struct{ A int }
	type Point struct{ X, Y int }
	type (
		plainA struct {
			Skip int
			A    int
			B    string
		}
		plainB struct {
			A int
			B string
		}
		tagsA struct {
			N    int `json:"n"`
			Skip int
			O    int `json:"o,omitempty"`
			P    int `json:",omitempty"`
			D    int `json:"-"`
			Dash int `json:"-,"`
			_    int
		}
		tagsB struct {
			N    int `json:"n"`
			O    int `json:"o,omitempty"`
			P    int `json:",omitempty"`
			D    int `json:"-"`
			Dash int `json:"-,"`
			_    int
		}
		hiddenA struct {
			Skip int
			A    int
			b    int
		}
		hiddenB struct {
			A int
			b int
		}
		hiddenDashA struct {
			Skip int
			A    int
			b    int `json:"-"`
		}
		hiddenDashB struct {
			A int
			b int `json:"-"`
		}
		embeddedA struct {
			Skip int
			Inner
			*Point
		}
		embeddedB struct {
			Inner
			*Point
		}
		embeddedHiddenA struct {
			Skip int
			inner
		}
		embeddedHiddenB struct{ inner }
		clashA          struct {
			Skip int
			A    int
			B    int `json:"A"`
		}
		clashB struct {
			A int
			B int `json:"A"`
		}
		clashIgnoredA struct {
			Skip int `json:"A"`
			A    int
		}
		clashIgnoredB struct{ A int }
		ignoredHidden struct {
			skip int
			A    int
		}
		ignoredByTag struct {
			Skip int `json:"s"`
			A    int
		}
		nestedA struct {
			Skip int
			In   inner
			Anon struct{ a int }
		}
		nestedB struct {
			In   inner
			Anon struct{ a int }
		}
		funcA struct {
			Skip int
			F    func()
		}
		funcB  struct{ F func() }
		emptyA struct{ Skip int }
		emptyB struct{}
	)
	for _, c := range []keyShape{
		shape("exported fields", plainA{1, 2, "x"}, "Skip", plainB{2, "x"}),
		shape("tags, omitempty and -", tagsA{N: 1, Skip: 2, O: 0, P: 3, D: 4, Dash: 5}, "Skip", tagsB{N: 1, O: 0, P: 3, D: 4, Dash: 5}),
		shape("unexported field", hiddenA{A: 1, b: 2}, "Skip", hiddenB{A: 1, b: 2}),
		shape("unexported field tagged -", hiddenDashA{A: 1, b: 2}, "Skip", hiddenDashB{A: 1, b: 2}),
		shape("embedded structs", embeddedA{1, Inner{2}, &Point{3, 4}}, "Skip", embeddedB{Inner{2}, &Point{3, 4}}),
		shape("embedded nil pointer", embeddedA{Inner: Inner{2}}, "Skip", embeddedB{Inner: Inner{2}}),
		shape("embedded unexported type", embeddedHiddenA{1, inner{2}}, "Skip", embeddedHiddenB{inner{2}}),
		shape("two fields of one name", clashA{1, 2, 3}, "Skip", clashB{2, 3}),
		shape("a name clash with an ignored field", clashIgnoredA{1, 2}, "Skip", clashIgnoredB{2}),
		shape("an ignored unexported field", ignoredHidden{1, 2}, "skip", clashIgnoredB{2}),
		shape("a field ignored by its tag name", ignoredByTag{1, 2}, "s", clashIgnoredB{2}),
		shape("unexported fields inside a field", nestedA{In: inner{1}}, "Skip", nestedB{In: inner{1}}),
		shape("a field of a kind without a canonical form", funcA{F: func() {}}, "Skip", funcB{F: func() {}}),
		shape("no fields left", emptyA{1}, "Skip", emptyB{}),
	} {
		t.Run(c.name, c.check)
	}
}
