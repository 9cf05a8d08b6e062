package bucket

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
)

// Entries yields every entry All does, and reports what All drops: a value
// that does not decode (with its key), the end of the context, and a
// KeyMaker that cannot parse keys (All panics there).
func TestEntriesReportsErrors(t *testing.T) {
	dir := t.TempDir()
	strs := open[string, string](t, dir, Options{})
	ints := open[string, int](t, dir, Options{})
	for i := range 5 {
		if err := ints.Set(fmt.Sprint("n", i), i); err != nil {
			t.Fatal(err)
		}
	}
	if err := strs.Set("word", "not a number"); err != nil {
		t.Fatal(err)
	}

	var keys, bad []string
	for e, err := range ints.Entries(context.Background()) {
		if err != nil {
			bad = append(bad, e.Key)
			continue
		}
		if e.Key != fmt.Sprint("n", e.Value) {
			t.Errorf("entry %q = %d", e.Key, e.Value)
		}
		keys = append(keys, e.Key)
	}
	sort.Strings(keys)
	if fmt.Sprint(keys) != "[n0 n1 n2 n3 n4]" || fmt.Sprint(bad) != "[word]" {
		t.Fatalf("Entries: good %v, undecodable %v", keys, bad)
	}
	all := 0
	for range ints.All() {
		all++
	}
	if all != len(keys) {
		t.Fatalf("All yielded %d, Entries %d good", all, len(keys))
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var errs []error
	for _, err := range ints.Entries(ctx) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Fatalf("Entries with an ended context: %v", errs)
	}

	noParse := open[string, string](t, t.TempDir(), Options{KeyMaker: lowerKeys{}})
	errs = nil
	for _, err := range noParse.Entries(context.Background()) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], ErrNoKeyParser) {
		t.Fatalf("Entries without a KeyParser: %v", errs)
	}
}
