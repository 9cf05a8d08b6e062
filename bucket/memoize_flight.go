package bucket

import (
	"context"
	"sync"
)

// flightGroup runs one piece of work per key at a time in this process and
// shares its result with every caller that asks for the key meanwhile, like
// golang.org/x/sync/singleflight, but with waiters that honour their own
// contexts. The zero value is ready to use.
type flightGroup[T any] struct {
	mu sync.Mutex
	m  map[string]*flight[T] // flights in progress that still take callers; guarded by mu

	joined func(key string, waiters int) // test hook: called under mu after a caller joins
}

// flight is one run of the work for a key.
type flight[T any] struct {
	done    chan struct{} // closed when res is set
	res     T
	waiters int                // callers still waiting; guarded by the group's mu
	cancel  context.CancelFunc // cancels the work's context
}

// do returns the result of work for key, starting it in a new goroutine
// unless a run for key is already in progress, in which case it waits for
// that run instead. The work's context carries the values of the ctx of the
// caller that started the run, but not its deadline or cancellation: it is
// cancelled once every caller waiting for the run has gone. When ctx ends
// before the result is ready, do returns ctx.Err() at once, and the run goes
// on for the other callers. A run whose callers have all gone no longer takes
// new callers: a later caller starts a new run.
//
// work writes its result through its *T, and may end by runtime.Goexit: the
// result it has written by then is delivered.
func (g *flightGroup[T]) do(ctx context.Context, key string, work func(context.Context, *T)) (T, error) {
	g.mu.Lock()
	f, ok := g.m[key]
	if !ok {
		wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &flight[T]{done: make(chan struct{}), cancel: cancel}
		if g.m == nil {
			g.m = make(map[string]*flight[T])
		}
		g.m[key] = f
		go g.run(wctx, key, f, work)
	}
	f.waiters++
	if g.joined != nil {
		g.joined(key, f.waiters)
	}
	g.mu.Unlock()

	select {
	case <-f.done:
		return f.res, nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-f.done: // the result came as ctx ended: take it
		return f.res, nil
	default:
	}
	f.waiters--
	if f.waiters == 0 {
		f.cancel()
		if g.m[key] == f {
			delete(g.m, key)
		}
	}
	var zero T
	return zero, ctx.Err()
}

// run does the work of flight f and publishes its result, even when the work
// ends by runtime.Goexit.
func (g *flightGroup[T]) run(ctx context.Context, key string, f *flight[T], work func(context.Context, *T)) {
	defer func() {
		g.mu.Lock()
		if g.m[key] == f {
			delete(g.m, key)
		}
		g.mu.Unlock()
		f.cancel()
		close(f.done)
	}()
	work(ctx, &f.res)
}
