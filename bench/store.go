package main

import (
	"errors"
	"fmt"
	"sort"
)

// kv is what every Go store under test offers: the operations a
// file-per-key cache user needs. Get reports a miss as ok == false, never as
// an error.
type kv interface {
	Set(key string, value []byte) error
	Get(key string) (value []byte, ok bool, err error)
	Close() error
}

// loader is implemented by stores with a faster way to fill themselves than
// one Set at a time. It is used only to prepare untimed data (the memory
// rows).
type loader interface {
	Load(keys []string, value func(i int) []byte) error
}

// batcher is implemented by stores that can write many entries as one batch.
// Stage does whatever the store does before the commit (for bucketcache's
// deferred writes: keep them in memory) and returns the commit, which is
// what the batch row times.
type batcher interface {
	Stage(keys []string, value func(i int) []byte) (commit func() error, err error)
}

// memoizer is implemented by stores with a memoizing wrapper of their own.
type memoizer interface {
	Memoize(name string, fn func(key string) ([]byte, error)) func(key string) ([]byte, error)
}

// storeKind describes one store under test.
type storeKind struct {
	name string
	// multiProcess: several processes may use one directory at once.
	multiProcess bool
	// warm: the store keeps values in process memory, so a repeated Get is
	// served without touching the file system. Stores without one still get a
	// warm row (a repeated Get) unless noWarm is set.
	warm   bool
	noWarm bool // a repeated Get is the same as a cold one: no warm row
	// proto is a value of the Go store's type, for finding which optional
	// interfaces (memoizer, batcher) it has; nil for the Python store.
	proto kv
	// missing explains, by op, a row this store should have but cannot run
	// yet because its type lacks the interface; without an explanation a
	// missing memoizer drops the memo row and a missing batcher writes the
	// batch one Set at a time.
	missing map[string]string
	note    string
	// open opens a Go store at dir; nil for the Python store.
	open func(dir string) (kv, error)
	// python: driven by the Python worker script instead of this binary,
	// which has every optional operation.
	python bool
}

// has reports whether the store has its own way to do op (opMemo, opBatch).
func (k *storeKind) has(op string) bool {
	if k.python {
		return true
	}
	switch op {
	case opMemo:
		_, ok := k.proto.(memoizer)
		return ok
	case opBatch:
		_, ok := k.proto.(batcher)
		return ok
	}
	return true
}

var stores = map[string]*storeKind{}

// register adds a store kind; each store's file calls it from init.
func register(k *storeKind) {
	if _, dup := stores[k.name]; dup {
		panic("bench: store registered twice: " + k.name)
	}
	stores[k.name] = k
}

// storeOrder is the order stores appear in the table.
var storeOrder = []string{"bucketcache", "floor", "diskv", "bbolt", "badger", "diskcache"}

// selectStores returns the kinds named in names, in table order.
func selectStores(names []string) ([]*storeKind, error) {
	want := map[string]bool{}
	for _, n := range names {
		if stores[n] == nil {
			known := make([]string, 0, len(stores))
			for k := range stores {
				known = append(known, k)
			}
			sort.Strings(known)
			return nil, fmt.Errorf("unknown store %q (known: %v)", n, known)
		}
		want[n] = true
	}
	var out []*storeKind
	for _, n := range storeOrder {
		if want[n] {
			out = append(out, stores[n])
			delete(want, n)
		}
	}
	for _, n := range names { // stores outside the usual order (tests') last
		if want[n] {
			out = append(out, stores[n])
			delete(want, n)
		}
	}
	return out, nil
}

// openGo opens the Go store kind name at dir.
func openGo(name, dir string) (kv, error) {
	k := stores[name]
	if k == nil || k.open == nil {
		return nil, fmt.Errorf("store %q is not a Go store", name)
	}
	return k.open(dir)
}

var errMismatch = errors.New("value read back differs from the value written")
