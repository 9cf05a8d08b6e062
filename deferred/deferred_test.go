package deferred

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"

	"github.com/bucketcache/bucketcache/internal/core"
	"github.com/bucketcache/bucketcache/internal/fakeclock"
)

func open[K, V any](t testing.TB, dir string, opts bucket.Options) *bucket.Bucket[K, V] {
	t.Helper()
	b, err := bucket.Open[K, V](dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// fresh opens another Bucket on b's directory with no memory layer, so every
// read comes from disk.
func fresh[K, V any](t testing.TB, b *bucket.Bucket[K, V]) *bucket.Bucket[K, V] {
	t.Helper()
	return open[K, V](t, b.Dir(), bucket.Options{MemoryLimit: -1, Now: b.Options().Now})
}

func mustSet[K, V any](t testing.TB, s interface{ Set(K, V) error }, k K, v V) {
	t.Helper()
	if err := s.Set(k, v); err != nil {
		t.Fatalf("Set(%v): %v", k, err)
	}
}

func mustSync[K, V any](t testing.TB, d *Bucket[K, V]) {
	t.Helper()
	if err := d.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

// want checks what Get returns for key: the value v, or (missing) ErrNotFound.
func want[K comparable, V comparable](t testing.TB, name string, get func(K) (V, error), k K, v V, missing bool) {
	t.Helper()
	got, err := get(k)
	switch {
	case missing && !errors.Is(err, bucket.ErrNotFound):
		t.Fatalf("%s: Get(%v) = %v, %v; want ErrNotFound", name, k, got, err)
	case !missing && (err != nil || got != v):
		t.Fatalf("%s: Get(%v) = %v, %v; want %v", name, k, got, err, v)
	}
}

func TestVisibleOnlyAfterSync(t *testing.T) {
	b := open[string, string](t, t.TempDir(), bucket.Options{})
	other := open[string, string](t, b.Dir(), bucket.Options{})
	mustSet(t, b, "gone", "old")
	mustSet(t, b, "kept", "old")
	b.Get("gone") // warm both readers
	other.Get("kept")

	d := New(b)
	mustSet(t, d, "new", "v")
	mustSet(t, d, "kept", "changed")
	if err := d.Delete("gone"); err != nil {
		t.Fatal(err)
	}
	if n := d.Pending(); n != 3 {
		t.Fatalf("Pending = %d, want 3", n)
	}
	for _, r := range []struct {
		name string
		get  func(string) (string, error)
	}{{"original", b.Get}, {"other", other.Get}, {"fresh", fresh(t, b).Get}} {
		want(t, r.name, r.get, "new", "", true)
		want(t, r.name, r.get, "kept", "old", false)
		want(t, r.name, r.get, "gone", "old", false)
	}
	want(t, "deferred", d.Get, "new", "v", false)
	want(t, "deferred", d.Get, "kept", "changed", false)
	want(t, "deferred", d.Get, "gone", "", true)
	for k, w := range map[string]bool{"new": true, "kept": true, "gone": false, "never": false} {
		if ok, err := d.Contains(k); ok != w || err != nil {
			t.Fatalf("Contains(%q) = %v, %v; want %v", k, ok, err, w)
		}
	}

	mustSync(t, d)
	if n := d.Pending(); n != 0 {
		t.Fatalf("Pending after Sync = %d", n)
	}
	for _, r := range []struct {
		name string
		get  func(string) (string, error)
	}{{"original", b.Get}, {"other", other.Get}, {"fresh", fresh(t, b).Get}, {"deferred", d.Get}} {
		want(t, r.name, r.get, "new", "v", false)
		want(t, r.name, r.get, "kept", "changed", false)
		want(t, r.name, r.get, "gone", "", true)
	}
}

func TestSetEncodesEagerly(t *testing.T) {
	b := open[string, any](t, t.TempDir(), bucket.Options{})
	d := New(b)
	mustSet[string, any](t, d, "k", "first")
	err := d.Set("k", make(chan int))
	if err == nil || errors.Is(err, bucket.ErrNotFound) {
		t.Fatalf("Set of an unencodable value: %v", err)
	}
	err = d.Set("other", func() {})
	if err == nil {
		t.Fatal("Set of a func succeeded")
	}
	if n := d.Pending(); n != 1 {
		t.Fatalf("Pending = %d, want 1 (the refused Sets change nothing)", n)
	}
	if v, err := d.Get("k"); v != "first" || err != nil {
		t.Fatalf("Get after refused Set: %v, %v", v, err)
	}
	if err := d.Set(string([]byte{0xff}), 1); err != nil { // invalid UTF-8 is a fine key
		t.Fatal(err)
	}
	mustSync(t, d)
	if v, err := b.Get("k"); v != "first" || err != nil {
		t.Fatalf("after Sync: %v, %v", v, err)
	}
}

func TestBadKeyIsAnError(t *testing.T) {
	d := New(open[any, int](t, t.TempDir(), bucket.Options{}))
	bad := make(chan int)
	if err := d.Set(bad, 1); err == nil {
		t.Error("Set with a channel key succeeded")
	}
	if _, err := d.Get(bad); err == nil || errors.Is(err, bucket.ErrNotFound) {
		t.Errorf("Get with a channel key: %v", err)
	}
	if err := d.Delete(bad); err == nil || errors.Is(err, bucket.ErrNotFound) {
		t.Errorf("Delete with a channel key: %v", err)
	}
	if _, err := d.Contains(bad); err == nil {
		t.Error("Contains with a channel key succeeded")
	}
	if d.Pending() != 0 {
		t.Error("a bad key left something pending")
	}
}

func TestDeletePendingOnly(t *testing.T) {
	b := open[string, int](t, t.TempDir(), bucket.Options{})
	d := New(b)
	mustSet(t, d, "k", 1)
	if err := d.Delete("k"); err != nil {
		t.Fatal(err)
	}
	if n := d.Pending(); n != 0 {
		t.Fatalf("Pending = %d: a Delete of a never-written entry should drop it", n)
	}
	want(t, "deferred", d.Get, "k", 0, true)
	if err := d.Delete("k"); !errors.Is(err, bucket.ErrNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
	locks := engine(b).Store.Stats().ShardLocks
	mustSync(t, d)
	if n := engine(b).Store.Stats().ShardLocks - locks; n != 0 {
		t.Fatalf("Sync with nothing pending took %d locks", n)
	}
	want(t, "fresh", fresh(t, b).Get, "k", 0, true)
}

func TestDeleteOnDiskOnly(t *testing.T) {
	b := open[string, int](t, t.TempDir(), bucket.Options{})
	mustSet(t, b, "k", 1)
	d := New(b)
	if err := d.Delete("absent"); !errors.Is(err, bucket.ErrNotFound) {
		t.Fatalf("Delete of an absent key: %v", err)
	}
	if err := d.Delete("k"); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete("k"); !errors.Is(err, bucket.ErrNotFound) {
		t.Fatalf("Delete of a pending delete: %v", err)
	}
	if n := d.Pending(); n != 1 {
		t.Fatalf("Pending = %d, want 1", n)
	}
	want(t, "deferred", d.Get, "k", 0, true)
	want(t, "original", b.Get, "k", 1, false)
	mustSync(t, d)
	want(t, "original", b.Get, "k", 0, true)
	want(t, "fresh", fresh(t, b).Get, "k", 0, true)
	if s := b.Stats(); s.Deletes != 1 {
		t.Fatalf("Deletes = %d, want 1", s.Deletes)
	}
}

func TestDeletePendingAndOnDisk(t *testing.T) {
	b := open[string, int](t, t.TempDir(), bucket.Options{})
	mustSet(t, b, "k", 1)
	d := New(b)
	mustSet(t, d, "k", 2)
	if err := d.Delete("k"); err != nil {
		t.Fatal(err)
	}
	want(t, "deferred", d.Get, "k", 0, true)
	if n := d.Pending(); n != 1 {
		t.Fatalf("Pending = %d, want 1 (a pending removal)", n)
	}
	mustSet(t, d, "k", 3) // a Set after the Delete wins
	want(t, "deferred", d.Get, "k", 3, false)
	if err := d.Delete("k"); err != nil {
		t.Fatal(err)
	}
	want(t, "original", b.Get, "k", 1, false)
	mustSync(t, d)
	want(t, "fresh", fresh(t, b).Get, "k", 0, true)
}

func TestExpiryCountsFromSet(t *testing.T) {
	c := fakeclock.New()
	b := open[string, string](t, t.TempDir(), bucket.Options{Lifetime: time.Minute, Now: c.Now})
	d := New(b)
	mustSet(t, d, "k", "v")
	if err := d.SetWithLifetime("long", "v", time.Hour); err != nil {
		t.Fatal(err)
	}
	c.Advance(40 * time.Second)
	mustSync(t, d)
	want(t, "original", b.Get, "k", "v", false)
	c.Advance(20 * time.Second) // exactly at the expiry: still live
	want(t, "original", b.Get, "k", "v", false)
	c.Advance(time.Nanosecond)
	want(t, "original", b.Get, "k", "", true)
	// Stored an hour, but too old for this Bucket's minute; live for others.
	want(t, "original", b.Get, "long", "", true)
	patient := open[string, string](t, b.Dir(), bucket.Options{Now: c.Now})
	want(t, "patient", patient.Get, "long", "v", false)
	if err := d.SetWithLifetime("x", "v", -time.Second); err == nil {
		t.Fatal("SetWithLifetime with a negative lifetime succeeded")
	}
}

func TestExpiredPendingSetRemovesOldEntry(t *testing.T) {
	c := fakeclock.New()
	b := open[string, string](t, t.TempDir(), bucket.Options{Now: c.Now})
	mustSet(t, b, "k", "old")
	d := New(b)
	if err := d.SetWithLifetime("k", "new", time.Minute); err != nil {
		t.Fatal(err)
	}
	want(t, "deferred", d.Get, "k", "new", false)
	c.Advance(2 * time.Minute)
	want(t, "deferred", d.Get, "k", "", true)
	if ok, err := d.Contains("k"); ok || err != nil {
		t.Fatalf("Contains of an expired pending entry: %v %v", ok, err)
	}
	if err := d.Delete("k"); !errors.Is(err, bucket.ErrNotFound) {
		t.Fatalf("Delete of an expired pending entry: %v", err)
	}
	want(t, "original", b.Get, "k", "old", false)
	sets := b.Stats().Sets
	mustSync(t, d)
	if n := b.Stats().Sets - sets; n != 0 {
		t.Fatalf("Sync wrote %d entries; an expired one should only remove the old", n)
	}
	// The Set replaced "old" and then expired: nothing is left.
	want(t, "original", b.Get, "k", "", true)
	want(t, "fresh", fresh(t, b).Get, "k", "", true)
}

func TestOnlyChangesAreWritten(t *testing.T) {
	b := open[int, int](t, t.TempDir(), bucket.Options{})
	for i := range 50 {
		mustSet(t, b, i, i)
	}
	d := New(b)
	for i := range 50 {
		want(t, "deferred", d.Get, i, i, false)
	}
	mustSet(t, d, 7, 700)
	mustSet(t, d, 8, 800)
	if err := d.Delete(9); err != nil {
		t.Fatal(err)
	}
	before := b.Stats()
	mustSync(t, d)
	after := b.Stats()
	if n := after.Sets - before.Sets; n != 2 {
		t.Fatalf("Sync wrote %d entries, want 2", n)
	}
	if n := after.Deletes - before.Deletes; n != 1 {
		t.Fatalf("Sync deleted %d entries, want 1", n)
	}
	mustSync(t, d)
	if n := b.Stats().Sets - after.Sets; n != 0 {
		t.Fatalf("a second Sync wrote %d entries", n)
	}
}

func TestOneLockPerShard(t *testing.T) {
	b := open[int, int](t, t.TempDir(), bucket.Options{Shards: 16})
	d := New(b)
	shards := make(map[int]bool)
	for i := range 300 {
		mustSet(t, d, i, i)
		kb, _ := engine(b).KeyBytes(i)
		shards[engine(b).Store.ShardOf(kb)] = true
	}
	mustSet(t, b, 1000, 0)
	if err := d.Delete(1000); err != nil {
		t.Fatal(err)
	}
	kb, _ := engine(b).KeyBytes(1000)
	shards[engine(b).Store.ShardOf(kb)] = true
	before := engine(b).Store.Stats().ShardLocks
	mustSync(t, d)
	if n := engine(b).Store.Stats().ShardLocks - before; n != int64(len(shards)) {
		t.Fatalf("Sync took %d shard locks for %d shards", n, len(shards))
	}
	if len(shards) < 2 {
		t.Fatalf("test keys hit only %d shards", len(shards))
	}
}

func TestSyncWarmsOriginal(t *testing.T) {
	b := open[int, string](t, t.TempDir(), bucket.Options{})
	d := New(b)
	const n = 100
	for i := range n {
		mustSet(t, d, i, fmt.Sprint("v", i))
	}
	mustSync(t, d)
	before := b.Stats()
	for i := range n {
		want(t, "original", b.Get, i, fmt.Sprint("v", i), false)
	}
	after := b.Stats()
	if hits := after.MemoryHits - before.MemoryHits; hits != n {
		t.Fatalf("%d of %d Gets after Sync were served from memory", hits, n)
	}
}

func TestValuesAreTheCallersOwn(t *testing.T) {
	d := New(open[string, []int](t, t.TempDir(), bucket.Options{}))
	v := []int{1, 2, 3}
	mustSet(t, d, "k", v)
	v[0] = 100 // Set took a copy (it encoded)
	got, _ := d.Get("k")
	got[1] = 200
	again, err := d.Get("k")
	if err != nil || fmt.Sprint(again) != "[1 2 3]" {
		t.Fatalf("Get = %v, %v; want [1 2 3]", again, err)
	}
}

func TestWrite(t *testing.T) {
	b := open[string, int](t, t.TempDir(), bucket.Options{})
	mustSet(t, b, "old", 1)

	err := Write(b, func(d *Bucket[string, int]) error {
		mustSet(t, d, "a", 1)
		if err := d.Delete("old"); err != nil {
			return err
		}
		want(t, "original inside Write", b.Get, "a", 0, true)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want(t, "after Write", b.Get, "a", 1, false)
	want(t, "after Write", b.Get, "old", 0, true)

	boom := errors.New("boom")
	before := b.Stats()
	err = Write(b, func(d *Bucket[string, int]) error {
		mustSet(t, d, "a", 2)
		mustSet(t, d, "b", 2)
		return boom
	})
	if err != boom {
		t.Fatalf("Write returned %v, want the fn's error", err)
	}
	if b.Stats().Sets != before.Sets {
		t.Fatal("a failed Write wrote something")
	}
	want(t, "after failed Write", b.Get, "a", 1, false)
	want(t, "after failed Write", b.Get, "b", 0, true)

	var leaked *Bucket[string, int]
	func() {
		defer func() {
			if r := recover(); r != "kaboom" {
				t.Fatalf("recovered %v, want the fn's panic", r)
			}
		}()
		Write(b, func(d *Bucket[string, int]) error {
			leaked = d
			mustSet(t, d, "a", 3)
			panic("kaboom")
		})
		t.Fatal("Write returned after a panic")
	}()
	if b.Stats().Sets != before.Sets {
		t.Fatal("a panicking Write wrote something")
	}
	if n := leaked.Pending(); n != 0 {
		t.Fatalf("a panicking Write left %d pending", n)
	}
	want(t, "after panicking Write", b.Get, "a", 1, false)
}

func TestUnloadSyncsFirst(t *testing.T) {
	b := open[string, int](t, t.TempDir(), bucket.Options{})
	d := New(b)
	mustSet(t, d, "a", 1)
	mustSet(t, d, "b", 2)
	d.Unload("a")
	if n := d.Pending(); n != 0 {
		t.Fatalf("Pending after Unload = %d", n)
	}
	f := fresh(t, b)
	want(t, "fresh", f.Get, "a", 1, false)
	want(t, "fresh", f.Get, "b", 2, false)
	before := b.Stats()
	want(t, "original", b.Get, "a", 1, false) // unloaded: read from disk
	want(t, "original", b.Get, "b", 2, false) // seeded by the Sync
	if hits := b.Stats().MemoryHits - before.MemoryHits; hits != 1 {
		t.Fatalf("MemoryHits = %d, want 1 (b only)", hits)
	}
}

func TestDiscardAndPendingBytes(t *testing.T) {
	b := open[string, string](t, t.TempDir(), bucket.Options{})
	d := New(b)
	if d.PendingBytes() != 0 {
		t.Fatal("PendingBytes of a new Bucket is not 0")
	}
	mustSet(t, d, "k", "short")
	small := d.PendingBytes()
	mustSet(t, d, "k", string(make([]byte, 10_000)))
	large := d.PendingBytes()
	if large-small < 10_000 {
		t.Fatalf("PendingBytes %d -> %d after growing a value by 10000 bytes", small, large)
	}
	mustSet(t, d, "j", "x")
	d.Discard()
	if d.Pending() != 0 || d.PendingBytes() != 0 {
		t.Fatalf("after Discard: %d pending, %d bytes", d.Pending(), d.PendingBytes())
	}
	mustSync(t, d)
	want(t, "original", b.Get, "k", "", true)
	mustSet(t, d, "k", "v")
	mustSync(t, d)
	if d.PendingBytes() != 0 {
		t.Fatalf("PendingBytes after Sync = %d", d.PendingBytes())
	}
}

func TestClosedBucketKeepsPending(t *testing.T) {
	b, err := bucket.Open[string, int](t.TempDir(), bucket.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := New(b)
	mustSet(t, d, "k", 1)
	b.Close()
	if err := d.Sync(); !errors.Is(err, bucket.ErrClosed) {
		t.Fatalf("Sync on a closed Bucket: %v", err)
	}
	if d.Pending() != 1 {
		t.Fatal("a failed Sync dropped the pending write")
	}
}

func TestOtherCodecsAndKeyMakers(t *testing.T) {
	b := open[string, []byte](t, t.TempDir(), bucket.Options{Codec: bucket.Raw})
	d := New(b)
	mustSet(t, d, "k", []byte{0, 1, 2, 0xff})
	mustSync(t, d)
	got, err := fresh(t, b).Get("k")
	if err != nil || string(got) != "\x00\x01\x02\xff" {
		t.Fatalf("Raw value read back as %q, %v", got, err)
	}
	rec, err := engine(b).Store.Get(mustKey(t, b, "k"))
	if err != nil || rec.Codec != "raw" {
		t.Fatalf("entry codec %q, %v; want raw", rec.Codec, err)
	}
}

func mustKey[K, V any](t testing.TB, b *bucket.Bucket[K, V], k K) []byte {
	t.Helper()
	kb, err := engine(b).KeyBytes(k)
	if err != nil {
		t.Fatal(err)
	}
	return kb
}

// engine is b's engine, for tests that look beneath the Bucket.
func engine[K, V any](b *bucket.Bucket[K, V]) *core.Engine[K, V] { return core.Of[K, V](b) }
