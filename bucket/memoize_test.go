package bucket

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/internal/canon"
	"github.com/bucketcache/bucketcache/internal/store"
	"github.com/bucketcache/bucketcache/lock"

	"github.com/bucketcache/bucketcache/internal/fakeclock"
)

// within fails the test if ch yields nothing within a generous deadline: a
// guard against hangs, never a stand-in for synchronisation.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

type result[R any] struct {
	v   R
	err error
}

// goCall runs f in a goroutine and delivers its outcome.
func goCall[A, R any](ctx context.Context, f func(context.Context, A) (R, error), a A) <-chan result[R] {
	ch := make(chan result[R], 1)
	go func() {
		v, err := f(ctx, a)
		ch <- result[R]{v, err}
	}()
	return ch
}

// memoKey is the key bytes of m's call with a.
func memoKey[A, R any](t *testing.T, m *memo[A, R], a A) []byte {
	t.Helper()
	kb, err := m.keyer.key(nil, a)
	if err != nil {
		t.Fatal(err)
	}
	return kb
}

// lockFileGone checks that no lock file is left for m's call with a.
func lockFileGone[A, R any](t *testing.T, m *memo[A, R], a A) {
	t.Helper()
	path, err := m.b.st.KeyLockPath(memoKey(t, m, a))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("lock file %s left behind: %v", path, err)
	}
}

func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		p := recover()
		if p == nil {
			t.Fatalf("no panic; want one containing %q", want)
		}
		if msg := fmt.Sprint(p); !strings.Contains(msg, want) {
			t.Fatalf("panic %q; want one containing %q", msg, want)
		}
	}()
	f()
}

// TestMemoRefreshSequence is the original decorator's nocache sequence: fn
// returns its argument and the number of calls so far.
func TestMemoRefreshSequence(t *testing.T) {
	type arg struct {
		X       int
		Refresh bool
	}
	b := open[arg, [2]int](t, t.TempDir(), Options{})
	calls := 0
	hits := 0
	f := Memoize(b, "f", func(_ context.Context, a arg) ([2]int, error) {
		calls++
		return [2]int{a.X, calls}, nil
	}, Ignore("Refresh"), RefreshIf(func(a arg) bool { return a.Refresh }),
		OnHit(func(arg, [2]int) { hits++ }))
	ctx := context.Background()
	for i, step := range []struct {
		a    arg
		want [2]int
	}{
		{arg{1, false}, [2]int{1, 1}},
		{arg{1, false}, [2]int{1, 1}},
		{arg{1, true}, [2]int{1, 2}},
		{arg{1, false}, [2]int{1, 2}},
	} {
		got, err := f(ctx, step.a)
		if err != nil || got != step.want {
			t.Fatalf("step %d: f(%+v) = %v, %v; want %v", i+1, step.a, got, err, step.want)
		}
	}
	s := b.Stats()
	if hits != 2 || s.MemoHits != 2 || s.MemoMisses != 1 || s.MemoExecutions != 2 || s.MemoWaits != 0 {
		t.Fatalf("OnHit calls %d, stats %+v", hits, s)
	}
}

func TestMemoIgnore(t *testing.T) {
	type arg struct {
		N        int
		Verbose  bool `json:"verbose"`
		Progress func(int)
		Name     string `json:"name"`
	}
	b := open[arg, int](t, t.TempDir(), Options{})
	calls := 0
	m := newMemo(b, "f", func(_ context.Context, a arg) (int, error) {
		calls++
		if a.Progress != nil {
			a.Progress(a.N)
		}
		return a.N * 10, nil
	}, Ignore("Progress"), Ignore("verbose")) // a Go name, and a JSON tag name
	ctx := context.Background()
	progressed := 0
	for _, a := range []arg{
		{N: 1, Name: "x"},
		{N: 1, Name: "x", Verbose: true},
		{N: 1, Name: "x", Progress: func(int) { progressed++ }},
	} {
		if v, err := m.call(ctx, a); v != 10 || err != nil {
			t.Fatalf("f(%+v) = %v, %v", a, v, err)
		}
	}
	if calls != 1 || progressed != 0 {
		t.Fatalf("calls differing only in ignored fields ran fn %d times", calls)
	}
	if v, err := m.call(ctx, arg{N: 2, Name: "x"}); v != 20 || err != nil || calls != 2 {
		t.Fatalf("f(N: 2) = %v, %v after %d calls", v, err, calls)
	}
	if _, err := m.call(ctx, arg{N: 1, Name: "y"}); err != nil || calls != 3 {
		t.Fatalf("a kept field must count: %v, %d calls", err, calls)
	}
	// The key is the argument's canonical text without the ignored fields.
	want, _ := canon.Marshal(struct {
		N    int
		Name string `json:"name"`
	}{3, "z"})
	if got := memoKey(t, m, arg{N: 3, Name: "z", Verbose: true}); string(got) != `memo "f" "" `+string(want) {
		t.Fatalf("key %q, want the namespace and %q", got, want)
	}

	// Without Ignore, a func field has no canonical form: an error, not a panic.
	plain := Memoize(b, "g", func(_ context.Context, a arg) (int, error) { return 0, nil })
	_, err := plain(ctx, arg{Progress: func(int) {}})
	var ue *canon.UnsupportedError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), `memo "g"`) {
		t.Fatalf("unencodable argument: %v", err)
	}
}

// lowerKeys is a custom KeyMaker: string keys, case-insensitively, and
// structs through fmt.
type lowerKeys struct{}

func (lowerKeys) MakeKey(key any) ([]byte, error) {
	if s, ok := key.(string); ok {
		return []byte(strings.ToLower(s)), nil
	}
	return fmt.Appendf(nil, "%+v", key), nil
}

func TestMemoCustomKeyMaker(t *testing.T) {
	dir := t.TempDir()
	b := open[string, string](t, dir, Options{KeyMaker: lowerKeys{}})
	calls := 0
	f := Memoize(b, "upper", func(_ context.Context, s string) (string, error) {
		calls++
		return strings.ToUpper(s), nil
	})
	ctx := context.Background()
	for _, s := range []string{"abc", "ABC", "aBc"} {
		if v, err := f(ctx, s); v != "ABC" || err != nil {
			t.Fatalf("f(%q) = %q, %v", s, v, err)
		}
	}
	if calls != 1 {
		t.Fatalf("the KeyMaker was not used: %d calls", calls)
	}

	type arg struct {
		N   int
		Log *strings.Builder
	}
	bs := open[arg, int](t, dir, Options{KeyMaker: lowerKeys{}})
	calls = 0
	g := Memoize(bs, "g", func(_ context.Context, a arg) (int, error) {
		calls++
		return a.N, nil
	}, Ignore("Log"))
	for _, a := range []arg{{N: 1}, {N: 1, Log: new(strings.Builder)}, {N: 1, Log: new(strings.Builder)}} {
		if v, err := g(ctx, a); v != 1 || err != nil {
			t.Fatalf("g(%+v) = %v, %v", a, v, err)
		}
	}
	if calls != 1 {
		t.Fatalf("an ignored field changed the key: %d calls", calls)
	}
}

type textArg struct{ s string }

func (a textArg) MarshalText() ([]byte, error) { return []byte(a.s), nil }

func TestMemoMisuse(t *testing.T) {
	type arg struct {
		N    int
		Name string `json:"name"`
	}
	b := open[arg, int](t, t.TempDir(), Options{})
	fn := func(context.Context, arg) (int, error) { return 0, nil }
	mustPanic(t, `has no field "Nope"; its fields are N, Name`, func() { Memoize(b, "f", fn, Ignore("N", "Nope")) })
	mustPanic(t, "RefreshIf needs a non-nil func(bucket.arg) bool, got func(int) bool", func() {
		Memoize(b, "f", fn, RefreshIf(func(int) bool { return true }))
	})
	mustPanic(t, "RefreshIf needs a non-nil func(bucket.arg) bool, got a nil", func() {
		Memoize(b, "f", fn, RefreshIf[arg](nil))
	})
	mustPanic(t, "OnHit needs a non-nil func(bucket.arg, int), got func(bucket.arg, string)", func() {
		Memoize(b, "f", fn, OnHit(func(arg, string) {}))
	})
	mustPanic(t, `two Versions, "1" and "2"`, func() { Memoize(b, "f", fn, Version("1"), Version("2")) })
	mustPanic(t, "zero MemoOption", func() { Memoize(b, "f", fn, MemoOption{}) })
	mustPanic(t, "non-empty name", func() { Memoize(b, "", fn) })
	mustPanic(t, "nil function", func() { Memoize(b, "f", nil) })
	mustPanic(t, "nil Bucket", func() { Memoize(nil, "f", fn) })

	bi := open[int, int](t, t.TempDir(), Options{})
	mustPanic(t, `Ignore("X") needs a struct argument type; int is a int`, func() {
		Memoize(bi, "f", func(context.Context, int) (int, error) { return 0, nil }, Ignore("X"))
	})
	bt := open[textArg, int](t, t.TempDir(), Options{})
	mustPanic(t, "implements encoding.TextMarshaler", func() {
		Memoize(bt, "f", func(context.Context, textArg) (int, error) { return 0, nil }, Ignore("s"))
	})
	type hidden struct {
		N  int
		mu int
	}
	bh := open[hidden, int](t, t.TempDir(), Options{})
	hfn := func(context.Context, hidden) (int, error) { return 0, nil }
	mustPanic(t, "cannot encode key of type bucket.hidden: unexported field mu", func() { Memoize(bh, "f", hfn, Ignore("N")) })
	Memoize(bh, "f", hfn, Ignore("mu")) // leaving the unexported field out is fine
	bhc := open[hidden, int](t, t.TempDir(), Options{KeyMaker: lowerKeys{}})
	mustPanic(t, "with a custom KeyMaker ignored fields must be exported", func() { Memoize(bhc, "f", hfn, Ignore("mu")) })
}

func TestMemoOnHit(t *testing.T) {
	b := open[int, string](t, t.TempDir(), Options{})
	type hit struct {
		a int
		v string
	}
	var hits []hit
	f := Memoize(b, "f", func(_ context.Context, n int) (string, error) {
		return fmt.Sprint("v", n), nil
	}, OnHit(func(a int, v string) { hits = append(hits, hit{a, v}) }),
		OnHit(func(a int, v string) { hits = append(hits, hit{-a, v}) }),
		RefreshIf(func(n int) bool { return n < 0 }))
	ctx := context.Background()
	f(ctx, 1) // miss
	if len(hits) != 0 {
		t.Fatalf("OnHit on a miss: %v", hits)
	}
	f(ctx, 1)  // hit
	f(ctx, -1) // refresh: never a hit
	f(ctx, 2)  // miss
	f(ctx, 2)  // hit
	want := []hit{{1, "v1"}, {-1, "v1"}, {2, "v2"}, {-2, "v2"}}
	if fmt.Sprint(hits) != fmt.Sprint(want) {
		t.Fatalf("OnHit calls %v, want %v", hits, want)
	}
}

func TestMemoVersionAndNamespaces(t *testing.T) {
	b := open[int, string](t, t.TempDir(), Options{})
	ctx := context.Background()
	runs := map[string]int{}
	mk := func(name, version string) func(context.Context, int) (string, error) {
		return Memoize(b, name, func(_ context.Context, n int) (string, error) {
			runs[name+"@"+version]++
			return fmt.Sprintf("%s@%s(%d)", name, version, n), nil
		}, Version(version))
	}
	f1, f2, g1 := mk("f", "1"), mk("f", "2"), mk("g", "1")
	for _, c := range []struct {
		f    func(context.Context, int) (string, error)
		want string
	}{
		{f1, "f@1(5)"}, {f1, "f@1(5)"}, {f2, "f@2(5)"}, {f1, "f@1(5)"}, {g1, "g@1(5)"}, {f2, "f@2(5)"},
	} {
		if v, err := c.f(ctx, 5); v != c.want || err != nil {
			t.Fatalf("got %q, %v; want %q", v, err, c.want)
		}
	}
	if runs["f@1"] != 1 || runs["f@2"] != 1 || runs["g@1"] != 1 {
		t.Fatalf("runs %v", runs)
	}
	// Plain entries and memo entries never meet.
	if _, err := b.Get(5); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a memo entry seen by Get: %v", err)
	}
	if err := b.Set(5, "plain"); err != nil {
		t.Fatal(err)
	}
	if v, _ := f1(ctx, 5); v != "f@1(5)" || runs["f@1"] != 1 {
		t.Fatalf("Set changed the memo entry: %q", v)
	}
	var keys []int
	for k := range b.Keys() {
		keys = append(keys, k)
	}
	if fmt.Sprint(keys) != "[5]" {
		t.Fatalf("Keys yields %v; memo entries must be left out", keys)
	}
	if n, _ := b.Len(); n != 1 {
		t.Fatalf("Len %d, want 1: the plain entry Keys yields, not the 3 memo entries", n)
	}
}

func TestMemoErrorsNotCached(t *testing.T) {
	b := open[int, int](t, t.TempDir(), Options{})
	errBoom := errors.New("boom")
	calls := 0
	m := newMemo(b, "f", func(_ context.Context, n int) (int, error) {
		calls++
		if calls == 1 {
			return 99, errBoom
		}
		return n, nil
	})
	ctx := context.Background()
	if v, err := m.call(ctx, 7); err != errBoom || v != 0 {
		t.Fatalf("first call: %v, %v; want fn's error as it is, with the zero R", v, err)
	}
	lockFileGone(t, m, 7)
	if v, err := m.call(ctx, 7); err != nil || v != 7 || calls != 2 {
		t.Fatalf("after an error: %v, %v, %d calls", v, err, calls)
	}
	if v, err := m.call(ctx, 7); err != nil || v != 7 || calls != 2 {
		t.Fatalf("third call: %v, %v, %d calls", v, err, calls)
	}
}

func TestMemoPanic(t *testing.T) {
	b := open[int, int](t, t.TempDir(), Options{})
	errBoom := errors.New("boom")
	release := make(chan struct{})
	calls := 0
	m := newMemo(b, "f", func(_ context.Context, n int) (int, error) {
		calls++
		if calls == 1 {
			<-release
			panic(errBoom)
		}
		return n, nil
	})
	const callers = 5
	m.flights.joined = func(_ string, n int) {
		if n == callers {
			close(release)
		}
	}
	panics := make(chan any, callers)
	for range callers {
		go func() {
			defer func() { panics <- recover() }()
			m.call(context.Background(), 3)
		}()
	}
	for range callers {
		p := within(t, panics, "a caller")
		pe, ok := p.(*PanicError)
		if !ok || pe.Value != errBoom || !errors.Is(pe, errBoom) {
			t.Fatalf("caller recovered %v (%T); want a *PanicError of boom", p, p)
		}
		if !strings.Contains(string(pe.Stack), "TestMemoPanic") || !strings.Contains(pe.Error(), "boom") {
			t.Fatalf("the panic does not show fn's stack:\n%s", pe.Error())
		}
	}
	m.flights.joined = nil
	if ok, err := b.st.Contains(memoKey(t, m, 3)); ok || err != nil {
		t.Fatalf("something stored after a panic: %v %v", ok, err)
	}
	lockFileGone(t, m, 3)
	if v, err := m.call(context.Background(), 3); v != 3 || err != nil || calls != 2 {
		t.Fatalf("after the panic: %v, %v, %d calls", v, err, calls)
	}
}

func TestMemoGoexit(t *testing.T) {
	b := open[int, int](t, t.TempDir(), Options{})
	calls := 0
	m := newMemo(b, "f", func(_ context.Context, n int) (int, error) {
		calls++
		if calls == 1 {
			runtime.Goexit()
		}
		return n, nil
	})
	if _, err := m.call(context.Background(), 1); !errors.Is(err, errGoexit) {
		t.Fatalf("fn called Goexit: %v", err)
	}
	lockFileGone(t, m, 1)
	if v, err := m.call(context.Background(), 1); v != 1 || err != nil {
		t.Fatalf("after Goexit: %v, %v", v, err)
	}
}

// TestMemoThousandGoroutines: 1000 goroutines miss on one key while fn is
// held inside; fn runs once and each gets its own copy of the result.
func TestMemoThousandGoroutines(t *testing.T) {
	b := open[string, []int](t, t.TempDir(), Options{})
	var calls atomic.Int64
	release := make(chan struct{})
	m := newMemo(b, "f", func(_ context.Context, s string) ([]int, error) {
		calls.Add(1)
		<-release
		return []int{1, 2, 3}, nil
	})
	const n = 1000
	m.flights.joined = func(_ string, waiters int) {
		if waiters == n {
			close(release)
		}
	}
	results := make([][]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := m.call(context.Background(), "k")
			if err != nil || fmt.Sprint(v) != "[1 2 3]" {
				t.Errorf("caller %d: %v, %v", i, v, err)
				return
			}
			v[0] = -i // each caller's copy is its own
			results[i] = v
		}()
	}
	wg.Wait()
	if calls.Load() != 1 || b.Stats().MemoExecutions != 1 || b.Stats().MemoMisses != n {
		t.Fatalf("%d runs of fn for %d concurrent calls; stats %+v", calls.Load(), n, b.Stats())
	}
	for i, v := range results {
		if v[0] != -i {
			t.Fatalf("caller %d's result was changed by another caller: %v", i, v)
		}
	}
	if v, err := m.call(context.Background(), "k"); err != nil || fmt.Sprint(v) != "[1 2 3]" {
		t.Fatalf("cached value after callers mutated theirs: %v, %v", v, err)
	}
}

// TestMemoResultIsCallersOwn: neither fn keeping and changing what it
// returned, nor a caller changing what it got, changes the cache.
func TestMemoResultIsCallersOwn(t *testing.T) {
	b := open[int, map[string]int](t, t.TempDir(), Options{})
	var kept map[string]int
	f := Memoize(b, "f", func(_ context.Context, n int) (map[string]int, error) {
		kept = map[string]int{"n": n}
		return kept, nil
	})
	ctx := context.Background()
	v, _ := f(ctx, 1)
	kept["n"] = 100
	v["n"] = 200
	if again, _ := f(ctx, 1); again["n"] != 1 {
		t.Fatalf("cached value changed to %v", again)
	}
}

// TestMemoOtherKeyOfShardNotBlocked: with one shard, two keys compute at the
// same time (each fn waits until both are inside), and the shard lock stays
// free for Set meanwhile.
func TestMemoOtherKeyOfShardNotBlocked(t *testing.T) {
	b := open[int, int](t, t.TempDir(), Options{Shards: 1})
	var inside sync.WaitGroup
	inside.Add(2)
	bothInside := make(chan struct{})
	release := make(chan struct{})
	f := Memoize(b, "f", func(_ context.Context, n int) (int, error) {
		inside.Done()
		select {
		case <-bothInside:
		case <-time.After(20 * time.Second):
			return 0, errors.New("the other key's fn never started")
		}
		<-release
		return n * 2, nil
	})
	r1 := goCall(context.Background(), f, 1)
	r2 := goCall(context.Background(), f, 2)
	inside.Wait()
	close(bothInside)
	set := make(chan error, 1)
	go func() { set <- b.Set(3, 3) }()
	if err := within(t, set, "Set on the shard while fns run"); err != nil {
		t.Fatal(err)
	}
	close(release)
	if r := within(t, r1, "f(1)"); r.v != 2 || r.err != nil {
		t.Fatalf("f(1) = %v, %v", r.v, r.err)
	}
	if r := within(t, r2, "f(2)"); r.v != 4 || r.err != nil {
		t.Fatalf("f(2) = %v, %v", r.v, r.err)
	}
}

func TestMemoCancelOneWaiter(t *testing.T) {
	b := open[int, int](t, t.TempDir(), Options{})
	release := make(chan struct{})
	fnCtx := make(chan context.Context, 1)
	joined := make(chan int, 2)
	m := newMemo(b, "f", func(ctx context.Context, n int) (int, error) {
		fnCtx <- ctx
		<-release
		return n, nil
	})
	m.flights.joined = func(_ string, n int) { joined <- n }
	ctxA, cancelA := context.WithCancel(context.Background())
	a := goCall(ctxA, m.call, 4)
	within(t, joined, "caller A")
	bres := goCall(context.Background(), m.call, 4)
	within(t, joined, "caller B")
	cancelA()
	if r := within(t, a, "the cancelled caller"); r.err != context.Canceled {
		t.Fatalf("cancelled caller: %v, %v", r.v, r.err)
	}
	fctx := within(t, fnCtx, "fn")
	if fctx.Err() != nil {
		t.Fatal("fn's context was cancelled while a caller still waits")
	}
	close(release)
	if r := within(t, bres, "caller B"); r.v != 4 || r.err != nil {
		t.Fatalf("the other caller: %v, %v", r.v, r.err)
	}
	if s := b.Stats(); s.MemoExecutions != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// TestMemoLastWaiterGoneCancelsFn: when every caller has gone, fn's context
// is cancelled; its error is not stored, and a later call runs fn afresh.
func TestMemoLastWaiterGoneCancelsFn(t *testing.T) {
	b := open[int, int](t, t.TempDir(), Options{})
	type ctxKey struct{}
	started := make(chan struct{}, 1)
	sawValue := make(chan any, 1)
	first := true
	m := newMemo(b, "f", func(ctx context.Context, n int) (int, error) {
		if first {
			first = false
			sawValue <- ctx.Value(ctxKey{})
			started <- struct{}{}
			<-ctx.Done()
			return 0, ctx.Err()
		}
		return n, nil
	})
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
	r := goCall(ctx, m.call, 1)
	within(t, started, "fn")
	if v := <-sawValue; v != "v" {
		t.Fatalf("fn's context lacks the caller's values: %v", v)
	}
	cancel()
	if res := within(t, r, "the caller"); res.err != context.Canceled {
		t.Fatalf("caller: %v", res.err)
	}
	// The next call may find the old run still winding down; it waits for
	// its lock, then runs fn itself.
	if v, err := m.call(context.Background(), 1); v != 1 || err != nil {
		t.Fatalf("later call: %v, %v", v, err)
	}
	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	if _, err := m.call(done, 2); err != context.Canceled {
		t.Fatalf("a miss with a done context: %v", err)
	}
}

// TestMemoWaitsForLockHolder plays another process with a lock held on the
// key: a waiter honours its context; another, once the "process" has stored
// a result and removed the lock file, returns that result without running fn.
func TestMemoWaitsForLockHolder(t *testing.T) {
	b := open[int, string](t, t.TempDir(), Options{})
	var calls atomic.Int64
	m := newMemo(b, "f", func(_ context.Context, n int) (string, error) {
		calls.Add(1)
		return "mine", nil
	})
	kb := memoKey(t, m, 1)
	path, err := b.st.KeyLockPath(kb)
	if err != nil {
		t.Fatal(err)
	}
	other := lock.New(path)
	if err := other.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	waiting := make(chan struct{}, 2)
	m.waiting = func() { waiting <- struct{}{} }
	ctx, cancel := context.WithCancel(context.Background())
	first := goCall(ctx, m.call, 1)
	within(t, waiting, "the first caller to find the lock held")
	cancel()
	if r := within(t, first, "a cancelled waiter"); r.err != context.Canceled {
		t.Fatalf("cancelled waiter: %v, %v", r.v, r.err)
	}
	second := goCall(context.Background(), m.call, 1)
	within(t, waiting, "the second caller to find the lock held")
	data, _ := b.encode("theirs")
	if err := b.st.Put(kb, store.Record{Codec: b.codec.Name(), Value: data}); err != nil {
		t.Fatal(err)
	}
	if err := other.Remove(); err != nil {
		t.Fatal(err)
	}
	if r := within(t, second, "the waiter"); r.v != "theirs" || r.err != nil {
		t.Fatalf("waiter: %v, %v", r.v, r.err)
	}
	if calls.Load() != 0 || b.Stats().MemoWaits != 2 {
		t.Fatalf("fn ran %d times though another run stored the result; stats %+v", calls.Load(), b.Stats())
	}
	lockFileGone(t, m, 1)
}

func TestMemoLifetime(t *testing.T) {
	c := fakeclock.New()
	b := open[int, int](t, t.TempDir(), Options{Lifetime: time.Hour, Now: c.Now})
	calls := 0
	f := Memoize(b, "f", func(_ context.Context, n int) (int, error) {
		calls++
		return calls, nil
	})
	ctx := context.Background()
	f(ctx, 1)
	c.Advance(time.Hour) // at the exact instant of expiry it is still live
	if v, _ := f(ctx, 1); v != 1 {
		t.Fatalf("live result recomputed: %v", v)
	}
	c.Advance(time.Nanosecond)
	if v, _ := f(ctx, 1); v != 2 {
		t.Fatalf("expired result served: %v", v)
	}
}

func TestMemoResultNotStorable(t *testing.T) {
	b := open[int, any](t, t.TempDir(), Options{})
	calls := 0
	ch := make(chan int)
	f := Memoize(b, "f", func(_ context.Context, n int) (any, error) {
		calls++
		return ch, nil
	})
	v, err := f(context.Background(), 1)
	if v != any(ch) || err == nil || !strings.Contains(err.Error(), "result not stored") {
		t.Fatalf("unencodable result: %v, %v", v, err)
	}
	f(context.Background(), 1)
	if calls != 2 {
		t.Fatalf("an unstored result was found again: %d calls", calls)
	}
}

// TestMemoUndecodableEntryRecomputed: an entry that no longer decodes into R
// (R changed, Version did not) is a miss, and is overwritten.
func TestMemoUndecodableEntryRecomputed(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	old := open[int, string](t, dir, Options{})
	Memoize(old, "f", func(context.Context, int) (string, error) { return "text", nil })(ctx, 1)
	nb := open[int, int](t, dir, Options{})
	calls := 0
	f := Memoize(nb, "f", func(context.Context, int) (int, error) { calls++; return 7, nil })
	for range 2 {
		if v, err := f(ctx, 1); v != 7 || err != nil {
			t.Fatalf("got %v, %v", v, err)
		}
	}
	if calls != 1 {
		t.Fatalf("%d calls", calls)
	}
}

func TestMemoClosedBucket(t *testing.T) {
	b, err := Open[int, int](t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := Memoize(b, "f", func(context.Context, int) (int, error) { return 1, nil })
	b.Close()
	if _, err := f(context.Background(), 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("call on a closed bucket: %v", err)
	}
}

// TestMemoStatsCountEachCallOnce: a memoized call is one look in the cache,
// counted once in Stats as a hit or a miss (and as a MemoHit or MemoMiss),
// though a miss looks again once it holds the argument's lock.
func TestMemoStatsCountEachCallOnce(t *testing.T) {
	b := open[int, int](t, t.TempDir(), Options{})
	f := Memoize(b, "f", func(_ context.Context, n int) (int, error) { return n * 2, nil })
	ctx := context.Background()
	type counts struct{ hits, misses, memoHits, memoMisses, runs int64 }
	stats := func() counts {
		s := b.Stats()
		return counts{s.Hits, s.Misses, s.MemoHits, s.MemoMisses, s.MemoExecutions}
	}
	for i, step := range []struct {
		arg  int
		want counts
	}{
		{1, counts{hits: 0, misses: 1, memoHits: 0, memoMisses: 1, runs: 1}}, // a miss
		{1, counts{hits: 1, misses: 1, memoHits: 1, memoMisses: 1, runs: 1}}, // a hit
		{2, counts{hits: 1, misses: 2, memoHits: 1, memoMisses: 2, runs: 2}}, // a miss
		{2, counts{hits: 2, misses: 2, memoHits: 2, memoMisses: 2, runs: 2}}, // a hit
	} {
		if v, err := f(ctx, step.arg); err != nil || v != step.arg*2 {
			t.Fatalf("call %d: %v, %v", i+1, v, err)
		}
		if got := stats(); got != step.want {
			t.Fatalf("after call %d: %+v, want %+v", i+1, got, step.want)
		}
	}
}
