package bucket

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"

	"github.com/bucketcache/bucketcache/internal/store"
	"github.com/bucketcache/bucketcache/lock"
)

// Memoize returns fn wrapped so that its results are cached in b under the
// namespace name: a call with an argument whose result is stored returns
// that result (a hit); any other call runs fn and stores what it returns (a
// miss).
//
// Exactly once. Concurrent calls with equal arguments run fn once, in this
// process and in every other process sharing b's directory: in a process,
// callers with equal arguments share one run; across processes, runs for one
// argument take turns under a lock of their own (a lock file beside the
// entry, never the lock of the shard, so calls for other arguments never
// wait for it), and each looks in the cache again once it has the lock, so
// only the first runs fn and the others read its result. If the process
// running fn dies, even by kill -9, the kernel releases its lock and a
// waiting process runs fn itself. Calls share results while they are stored:
// a result that has expired, or was deleted, is computed again.
//
// Keys. An entry's key is the namespace (name and Version) together with the
// canonical bytes of the argument, as b's KeyMaker makes them, without the
// fields named by Ignore. Equal arguments give equal keys in every process;
// functions memoized under different names (or versions) never share
// results. Memo keys start with the word "memo", which no key made by the
// default KeyMaker does, so a memo entry never meets an entry stored by
// b.Set, and b.All and b.Keys (which need keys that parse as A) leave memo
// entries out. With a custom KeyMaker, ignored fields are set to their zero
// value in a copy of the argument, which the KeyMaker then turns into bytes.
//
// Results. Every caller gets its own copy of the result, decoded from the
// stored bytes, whether it was a hit or a miss: mutating it changes neither
// the cache nor what other callers got, and a miss returns the same thing a
// later hit would. Errors from fn are returned as they are, with the zero R,
// to every caller sharing the run, and never stored. If fn succeeds but its
// result cannot be stored (the codec refuses it, the disk is full), the call
// returns the result together with an error saying so. An entry that no
// longer decodes into R (R changed but the Version did not) counts as a miss
// and is overwritten.
//
// Contexts. fn runs in a goroutine of its own, with a context that carries
// the values of the context of the call that started the run, but neither
// its deadline nor its cancellation: it is cancelled when every caller
// waiting for the run has gone. A caller whose context ends while it waits
// (for fn, or for another process's run) returns ctx.Err() at once; the
// others go on waiting, and fn goes on for them. A result fn returns after
// all its callers have gone is still stored. Hits are answered whatever the
// state of ctx.
//
// Panics. If fn panics, every caller sharing the run panics with a
// *PanicError holding the value and fn's stack; nothing is stored and the
// lock is released. If fn calls runtime.Goexit, its callers get an error. A
// panic with no caller left waiting is dropped.
//
// fn may call memoized functions, including this one, for other arguments.
// A call that needs its own result, directly or through other memoized
// calls, waits until its context ends, as the equivalent recursion would
// never end.
//
// The result is stored with b's Lifetime, like any entry, and found only
// while it is younger than b's Lifetime. Stats counts hits (MemoHits),
// calls that missed (MemoMisses; calls that RefreshIf sends to fn count as
// neither), runs of fn in this process (MemoExecutions), and runs that found
// the argument's lock held and waited for it (MemoWaits), almost always
// because another process was computing the same result.
//
// Memoize panics, like regexp.MustCompile, when the options are misused:
// an empty name, a nil fn, an Ignore field that A does not have (or A is not
// a struct), a RefreshIf or OnHit for other types than A and R, or two
// Versions.
func Memoize[A, R any](b *Bucket[A, R], name string,
	fn func(context.Context, A) (R, error), opts ...MemoOption) func(context.Context, A) (R, error) {
	return newMemo(b, name, fn, opts...).call
}

// MemoOption configures Memoize. Make one with Ignore, RefreshIf, OnHit or
// Version; the zero MemoOption makes Memoize panic.
type MemoOption struct {
	kind    memoOptionKind
	fields  []string // Ignore
	version string   // Version
	fn      any      // RefreshIf: func(A) bool; OnHit: func(A, R)
}

type memoOptionKind uint8

const (
	memoIgnore memoOptionKind = iota + 1
	memoVersion
	memoRefreshIf
	memoOnHit
)

// Ignore leaves the named fields of the struct argument out of the key, so
// that calls differing only in them share a result: a logger, a progress
// callback, a verbosity flag. A field is named by its Go name or, failing
// that, its JSON tag name. Several Ignores add up. Memoize panics if the
// argument is not a struct or has no such field.
func Ignore(fields ...string) MemoOption {
	return MemoOption{kind: memoIgnore, fields: fields}
}

// Version makes v part of the namespace: bump it when fn's results change
// meaning, and results stored under the old version are no longer found
// (they stay on disk until they expire or are deleted). The default is "".
func Version(v string) MemoOption {
	return MemoOption{kind: memoVersion, version: v}
}

// RefreshIf makes calls whose argument satisfies pred skip the cache: fn
// runs (once for all such calls made at the same time in this process) and
// its result overwrites the stored one. Several RefreshIfs add up: any one
// true refreshes. pred is called on every call, in the caller's goroutine.
func RefreshIf[A any](pred func(A) bool) MemoOption {
	return MemoOption{kind: memoRefreshIf, fn: pred}
}

// OnHit has fn called on every call answered from the cache, never on one
// that ran the memoized function (a miss or a refresh), with the argument
// and the value about to be returned. It runs in the caller's goroutine,
// before the call returns. Several OnHits are called in order.
func OnHit[A, R any](fn func(A, R)) MemoOption {
	return MemoOption{kind: memoOnHit, fn: fn}
}

// PanicError is the value callers of a memoized function panic with when
// the function panicked.
type PanicError struct {
	Value any    // what the function panicked with
	Stack []byte // the stack of the function's goroutine when it panicked
}

// Error returns the panic value and the stack of the function.
func (p *PanicError) Error() string {
	return fmt.Sprintf("bucket: memoized function panicked: %v\n\n%s", p.Value, p.Stack)
}

// Unwrap returns the panic value if it is an error.
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

var _ error = (*PanicError)(nil)

// errGoexit is what callers get when the memoized function called
// runtime.Goexit.
var errGoexit = errors.New("bucket: memoized function called runtime.Goexit")

// memo is a memoized function.
type memo[A, R any] struct {
	b       *Bucket[A, R]
	name    string
	fn      func(context.Context, A) (R, error)
	keyer   *memoKeyer[A]
	refresh []func(A) bool
	onHit   []func(A, R)
	flights flightGroup[memoResult[R]]

	waiting func() // test hook: called when a run finds the argument's lock held
}

// memoResult is the outcome of one run, shared by the callers of a flight.
type memoResult[R any] struct {
	rec    store.Record // the stored (or found) result, when stored is set
	stored bool
	value  R // fn's result when it could not be stored
	err    error
	panic  *PanicError
}

func newMemo[A, R any](b *Bucket[A, R], name string, fn func(context.Context, A) (R, error), opts ...MemoOption) *memo[A, R] {
	fail := func(format string, args ...any) {
		panic(fmt.Sprintf("bucket: Memoize %q: ", name) + fmt.Sprintf(format, args...))
	}
	switch {
	case b == nil:
		fail("nil Bucket")
	case fn == nil:
		fail("nil function")
	case name == "":
		panic("bucket: Memoize needs a non-empty name")
	}
	m := &memo[A, R]{b: b, name: name, fn: fn}
	var ignore []string
	version, versioned := "", false
	for _, o := range opts {
		switch o.kind {
		case memoIgnore:
			ignore = append(ignore, o.fields...)
		case memoVersion:
			if versioned {
				fail("two Versions, %q and %q", version, o.version)
			}
			version, versioned = o.version, true
		case memoRefreshIf:
			pred, ok := o.fn.(func(A) bool)
			if !ok || pred == nil {
				fail("RefreshIf needs a non-nil func(%v) bool, got %s", reflect.TypeFor[A](), describe(o.fn))
			}
			m.refresh = append(m.refresh, pred)
		case memoOnHit:
			hit, ok := o.fn.(func(A, R))
			if !ok || hit == nil {
				fail("OnHit needs a non-nil func(%v, %v), got %s", reflect.TypeFor[A](), reflect.TypeFor[R](), describe(o.fn))
			}
			m.onHit = append(m.onHit, hit)
		default:
			fail("zero MemoOption; make options with Ignore, Version, RefreshIf or OnHit")
		}
	}
	keyer, err := newMemoKeyer[A](name, version, b.keys, ignore)
	if err != nil {
		fail("%v", err)
	}
	m.keyer = keyer
	return m
}

func describe(fn any) string {
	if fn == nil {
		return "nil"
	}
	if v := reflect.ValueOf(fn); v.Kind() == reflect.Func && v.IsNil() {
		return "a nil " + v.Type().String()
	}
	return fmt.Sprintf("%T", fn)
}

// argText renders an argument for an error message.
func argText(a any) string {
	const max = 120
	s := fmt.Sprintf("%+v", a)
	if len(s) > max {
		return fmt.Sprintf("%s... (%d bytes)", s[:max], len(s))
	}
	return s
}

// call is the memoized function.
func (m *memo[A, R]) call(ctx context.Context, a A) (R, error) {
	var zero R
	var scratch [keyScratch]byte // a hit's key stays on the stack
	kb, ok := m.keyer.appendString(scratch[:0], a)
	var err error
	if !ok {
		kb, err = m.keyer.key(nil, a)
	}
	if err != nil {
		return zero, fmt.Errorf("bucket: memo %q: argument %s: %w", m.name, argText(a), err)
	}
	refresh := false
	for _, pred := range m.refresh {
		if pred(a) {
			refresh = true
			break
		}
	}
	if !refresh {
		rec, err := m.b.st.Get(kb)
		if err == nil {
			if v, err := m.b.decodeRecord(kb, rec); err == nil {
				m.b.memo.hits.Add(1)
				for _, hit := range m.onHit {
					hit(a, v)
				}
				return v, nil
			}
		} else if !errors.Is(err, ErrNotFound) {
			return zero, fmt.Errorf("bucket: memo %q: %w", m.name, err)
		}
		m.b.memo.misses.Add(1)
	}
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	key := bytes.Clone(kb) // the flight outlives this call's stack
	fk := "n" + string(key)
	if refresh {
		fk = "r" + string(key)
	}
	res, err := m.flights.do(ctx, fk, func(ctx context.Context, res *memoResult[R]) {
		m.lead(ctx, a, key, refresh, res)
	})
	switch {
	case err != nil:
		return zero, err
	case res.panic != nil:
		panic(res.panic)
	case !res.stored:
		return res.value, res.err
	}
	v, derr := m.b.decodeRecord(key, res.rec)
	if derr != nil {
		return zero, derr
	}
	return v, res.err
}

// lead does the work of one flight: take the argument's lock, look in the
// cache again (unless refreshing), run fn, store its result, and remove the
// lock file. It writes the outcome to res, even when fn panics or calls
// runtime.Goexit.
func (m *memo[A, R]) lead(ctx context.Context, a A, kb []byte, refresh bool, res *memoResult[R]) {
	path, err := m.b.st.KeyLockPath(kb)
	if err != nil {
		res.err = fmt.Errorf("bucket: memo %q: %w", m.name, err)
		return
	}
	lk := lock.New(path)
	ok, err := lk.TryLock()
	if err == nil && !ok {
		m.b.memo.waits.Add(1)
		if m.waiting != nil {
			m.waiting()
		}
		err = lk.Lock(ctx)
	}
	if err != nil {
		if ctx.Err() == nil {
			err = fmt.Errorf("bucket: memo %q: %w", m.name, err)
		}
		res.err = err
		return
	}
	// Removing the lock file under the lock is safe (see lock.Mutex),
	// and keeps lock files from piling up; one left by a crashed run is
	// removed by the next.
	defer lk.Remove()

	if !refresh {
		// The caller's look was counted in Stats; this one is not.
		rec, err := m.b.st.Lookup(kb)
		if err == nil {
			if _, derr := m.b.decodeRecord(kb, rec); derr == nil {
				res.rec, res.stored = rec, true // another run stored it meanwhile
				return
			}
		} else if !errors.Is(err, ErrNotFound) {
			res.err = fmt.Errorf("bucket: memo %q: %w", m.name, err)
			return
		}
	}

	normal := false
	defer func() {
		if normal {
			return
		}
		if p := recover(); p != nil {
			res.panic = &PanicError{Value: p, Stack: debug.Stack()}
		} else {
			res.err = errGoexit // unwinding goes on; the deferred Remove and the flight publish res
		}
	}()
	m.b.memo.executions.Add(1)
	v, err := m.fn(ctx, a)
	if err != nil {
		normal = true
		res.err = err
		return
	}
	data, err := m.b.encode(v)
	normal = true
	if err != nil {
		res.value, res.err = v, fmt.Errorf("bucket: memo %q: result not stored: %w", m.name, err)
		return
	}
	rec := m.b.record(data, m.b.opts.Lifetime)
	res.rec, res.stored = rec, true
	if err := m.b.st.PutContext(ctx, kb, rec, true); err != nil { // freshly encoded, shared only read-only
		res.err = fmt.Errorf("bucket: memo %q: result not stored: %w", m.name, err)
	}
}
