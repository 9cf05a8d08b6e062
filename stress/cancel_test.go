//go:build linux

package stress

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/deferred"
	"github.com/bucketcache/bucketcache/internal/fakeclock"
	"github.com/bucketcache/bucketcache/internal/selfcheck"
)

// countdown is a context that ends after its Err has been asked a given
// number of times: a cancellation that lands at a chosen point of a long
// walk, the same on every run, without timing.
type countdown struct {
	context.Context
	left atomic.Int64
	once sync.Once
	done chan struct{}
}

func newCountdown(checks int64) *countdown {
	c := &countdown{Context: context.Background(), done: make(chan struct{})}
	c.left.Store(checks)
	return c
}

func (c *countdown) Done() <-chan struct{} { return c.done }

func (c *countdown) Err() error {
	if c.left.Add(-1) >= 0 {
		return nil
	}
	c.once.Do(func() { close(c.done) })
	return context.Canceled
}

// A Sync of many pending entries cancelled part way writes some shards
// whole and keeps every other entry pending; a second Sync writes the rest.
// The directory is consistent throughout: every file whole, no lock held.
func TestCancelledSyncKeepsTheRestPending(t *testing.T) {
	const n = 2000
	dir := t.TempDir()
	b := openBucket(t, dir, bucket.Options{Shards: 64})
	d := deferred.New(b)
	for i := range n {
		k := fmt.Sprintf("sync/%d", i)
		if err := d.Set(k, selfcheck.New(k, "parent", 1, 40)); err != nil {
			t.Fatal(err)
		}
	}
	err := d.SyncContext(newCountdown(10))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Sync: %v, want context.Canceled", err)
	}
	pending := d.Pending()
	if pending == 0 || pending == n {
		t.Fatalf("cancelled Sync left %d of %d pending: want it stopped part way", pending, n)
	}
	scan := scanDir(t, dir, true)
	scan.expectClean(t, "after the cancelled Sync", false)
	if scan.Entries+pending != n {
		t.Fatalf("after the cancelled Sync: %d entries on disk + %d pending, want %d", scan.Entries, pending, n)
	}
	if err := d.SyncContext(context.Background()); err != nil {
		t.Fatalf("second Sync: %v", err)
	}
	if d.Pending() != 0 {
		t.Fatalf("%d still pending", d.Pending())
	}
	for i := range n {
		k := fmt.Sprintf("sync/%d", i)
		v, err := b.Get(k)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if err := checkValue(k, v, "parent", 1); err != nil {
			t.Fatal(err)
		}
	}
	scanDir(t, dir, true).expectClean(t, "after the second Sync", false)

	// A Sync whose context has already ended writes nothing.
	d.Set("late", selfcheck.New("late", "parent", 1, 40))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.SyncContext(ctx); !errors.Is(err, context.Canceled) || d.Pending() != 1 {
		t.Fatalf("Sync with an ended context: %v, %d pending", err, d.Pending())
	}
}

// A Prune over many expired entries cancelled part way returns the
// context's error, leaves every file whole and no lock held, and a second
// Prune removes exactly the rest; live entries are untouched.
func TestCancelledPruneStopsCleanly(t *testing.T) {
	const expired, live = 3000, 50
	dir := t.TempDir()
	clock := fakeclock.New()
	b := openBucket(t, dir, bucket.Options{Shards: 64, Now: clock.Now})
	for i := range expired {
		k := fmt.Sprintf("prune/%d", i)
		if err := b.SetWithLifetime(k, selfcheck.New(k, "parent", 1, 40), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	for i := range live {
		k := fmt.Sprintf("live/%d", i)
		if err := b.Set(k, selfcheck.New(k, "parent", 1, 40)); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Hour)

	first, err := b.PruneContext(newCountdown(200))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Prune: %v, want context.Canceled", err)
	}
	if first.Expired == 0 || first.Expired >= expired {
		t.Fatalf("cancelled Prune removed %d of %d expired entries: want it stopped part way", first.Expired, expired)
	}
	scan := scanDir(t, dir, true)
	scan.expectClean(t, "after the cancelled Prune", false)
	if scan.Entries != expired+live-first.Expired {
		t.Fatalf("after the cancelled Prune: %d entries, want %d", scan.Entries, expired+live-first.Expired)
	}
	second, err := b.PruneContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if first.Expired+second.Expired != expired || first.Corrupt+second.Corrupt != 0 {
		t.Fatalf("the two Prunes removed %d+%d expired (%d+%d damaged), want %d in all",
			first.Expired, second.Expired, first.Corrupt, second.Corrupt, expired)
	}
	after := scanDir(t, dir, true)
	after.expectClean(t, "after the second Prune", false)
	if after.Entries != live {
		t.Fatalf("after both Prunes: %d entries, want the %d live ones", after.Entries, live)
	}
	for i := range live {
		k := fmt.Sprintf("live/%d", i)
		v, err := b.Get(k)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if err := checkValue(k, v, "parent", 1); err != nil {
			t.Fatal(err)
		}
	}
}
