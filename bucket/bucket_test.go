package bucket

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/internal/fakeclock"
)

func open[K, V any](t testing.TB, dir string, opts Options) *Bucket[K, V] {
	t.Helper()
	b, err := Open[K, V](dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestGetSetDeleteContains(t *testing.T) {
	b := open[string, int](t, t.TempDir(), Options{})
	if _, err := b.Get("a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of missing: %v", err)
	}
	if ok, err := b.Contains("a"); ok || err != nil {
		t.Fatalf("Contains of missing: %v %v", ok, err)
	}
	if err := b.Set("a", 1); err != nil {
		t.Fatal(err)
	}
	if v, err := b.Get("a"); v != 1 || err != nil {
		t.Fatalf("Get: %v %v", v, err)
	}
	if ok, err := b.Contains("a"); !ok || err != nil {
		t.Fatalf("Contains: %v %v", ok, err)
	}
	if err := b.Delete("a"); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete("a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete of missing: %v", err)
	}
	if _, err := b.Get("a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
}

func TestUnloadKeepsFile(t *testing.T) {
	b := open[string, string](t, t.TempDir(), Options{})
	b.Set("k", "v")
	b.Unload("k")
	before := b.Stats()
	if v, err := b.Get("k"); v != "v" || err != nil {
		t.Fatalf("Get after Unload: %q %v", v, err)
	}
	if after := b.Stats(); after.MemoryHits != before.MemoryHits || after.Hits != before.Hits+1 {
		t.Fatalf("Get after Unload was served from memory: %+v", after)
	}
}

func TestExpiryIsAbsolute(t *testing.T) {
	c := fakeclock.New()
	b := open[string, string](t, t.TempDir(), Options{Lifetime: time.Minute, Now: c.Now})
	b.Set("k", "v")
	c.Advance(50 * time.Second)
	if _, err := b.Get("k"); err != nil { // a read must not extend the expiry
		t.Fatal(err)
	}
	c.Advance(10 * time.Second)
	if _, err := b.Get("k"); err != nil {
		t.Fatalf("dead at the exact instant of expiry: %v", err)
	}
	c.Advance(time.Nanosecond)
	if _, err := b.Get("k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired entry returned: %v", err)
	}
	b.Set("k", "v2") // a new Set resets the expiry
	c.Advance(time.Minute)
	if v, err := b.Get("k"); v != "v2" || err != nil {
		t.Fatalf("after reset: %q %v", v, err)
	}
}

func TestShorterLifetimeBucketNeverReturnsOlder(t *testing.T) {
	c := fakeclock.New()
	dir := t.TempDir()
	forever := open[string, string](t, dir, Options{Now: c.Now})
	hour := open[string, string](t, dir, Options{Now: c.Now, Lifetime: time.Hour})
	minute := open[string, string](t, dir, Options{Now: c.Now, Lifetime: time.Minute})
	forever.Set("a", "x")
	hour.Set("b", "y")
	c.Advance(2 * time.Minute)
	for _, k := range []string{"a", "b"} {
		if _, err := minute.Get(k); !errors.Is(err, ErrNotFound) {
			t.Fatalf("minute bucket returned %q written 2 minutes ago: %v", k, err)
		}
		if v, err := hour.Get(k); err != nil || v == "" {
			t.Fatalf("hour bucket lost %q: %v", k, err)
		}
	}
	if info, err := minute.Prune(); err != nil || info.Files != 0 {
		t.Fatalf("minute bucket pruned live entries: %+v %v", info, err)
	}
	if _, err := forever.Get("a"); err != nil {
		t.Fatal("entry destroyed by a shorter-lived bucket")
	}
	c.Advance(time.Hour)
	if info, _ := minute.Prune(); info.Expired != 1 {
		t.Fatalf("Prune must delete b, whose own expiry passed: %+v", info)
	}
	if _, err := forever.Get("a"); err != nil {
		t.Fatal("a, which never expires, was deleted")
	}
}

func TestSetWithLifetime(t *testing.T) {
	c := fakeclock.New()
	b := open[string, int](t, t.TempDir(), Options{Now: c.Now})
	if err := b.SetWithLifetime("k", 1, -time.Second); err == nil {
		t.Fatal("negative lifetime accepted")
	}
	b.SetWithLifetime("k", 1, time.Second)
	b.SetWithLifetime("forever", 2, 0)
	c.Advance(time.Second + 1)
	if _, err := b.Get("k"); !errors.Is(err, ErrNotFound) {
		t.Fatal("per-key lifetime ignored")
	}
	if _, err := b.Get("forever"); err != nil {
		t.Fatal(err)
	}
}

type unencodable struct{ C chan int }

func TestFailedSetKeepsOldValue(t *testing.T) {
	b := open[string, any](t, t.TempDir(), Options{})
	b.Set("k", "old")
	b.Get("k") // warm
	err := b.Set("k", unencodable{C: make(chan int)})
	if err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("Set of an unencodable value: %v", err)
	}
	if v, err := b.Get("k"); v != "old" || err != nil {
		t.Fatalf("memory after failed Set: %v %v", v, err)
	}
	b.Unload("k")
	if v, err := b.Get("k"); v != "old" || err != nil {
		t.Fatalf("disk after failed Set: %v %v", v, err)
	}
}

func TestFailedWriteIsARealError(t *testing.T) {
	b := open[string, string](t, t.TempDir(), Options{})
	b.Set("k", "old")
	shardDir := filepath.Join(b.Dir(), b.st.Layout().DirName(b.st.ShardOf(mustKey(t, b, "k"))))
	saved := shardDir + ".saved"
	os.Rename(shardDir, saved)
	os.WriteFile(shardDir, []byte("a file where a shard directory belongs"), 0o644)
	err := b.Set("k", "new")
	if err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), shardDir) {
		t.Fatalf("Set into a broken shard: %v", err)
	}
	os.Remove(shardDir)
	os.Rename(saved, shardDir)
	if v, err := b.Get("k"); v != "old" || err != nil {
		t.Fatalf("old value after failed Set: %q %v", v, err)
	}
}

func mustKey[K, V any](t *testing.T, b *Bucket[K, V], k K) []byte {
	kb, err := b.keyBytes(k)
	if err != nil {
		t.Fatal(err)
	}
	return kb
}

func TestOtherBucketSeesWritesAndDeletes(t *testing.T) {
	dir := t.TempDir()
	a := open[string, string](t, dir, Options{})
	b := open[string, string](t, dir, Options{})
	for i, v := range []string{"one", "two", "three"} {
		if err := a.Set("k", v); err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 2; j++ { // the second read is warm
			if got, err := b.Get("k"); got != v || err != nil {
				t.Fatalf("round %d read %d: %q %v", i, j, got, err)
			}
		}
	}
	a.Delete("k")
	if _, err := b.Get("k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted entry served: %v", err)
	}
}

func TestValuesAreTheCallersOwn(t *testing.T) {
	b := open[string, map[string][]int](t, t.TempDir(), Options{})
	b.Set("k", map[string][]int{"a": {1, 2}})
	cold, _ := b.Get("k")
	cold["a"][0] = 99
	cold["b"] = nil
	warm, _ := b.Get("k")
	if len(warm) != 1 || warm["a"][0] != 1 {
		t.Fatalf("mutating a returned value changed the cache: %v", warm)
	}
	warm["a"] = append(warm["a"], 3)
	again, _ := b.Get("k")
	if len(again["a"]) != 2 {
		t.Fatalf("warm read shares state: %v", again)
	}
}

// Raw []byte values are handed over without a copy where nothing else holds
// them (a Bucket without memory, a large value): each Get's bytes are still
// the caller's own, whatever it does to them.
func TestRawValuesAreTheCallersOwn(t *testing.T) {
	for _, memory := range []int64{0, -1} {
		b := open[string, []byte](t, t.TempDir(), Options{Codec: Raw, MemoryLimit: memory})
		for _, size := range []int{10, 100 << 10} {
			want := bytes.Repeat([]byte("v"), size)
			set := bytes.Clone(want)
			if err := b.Set("k", set); err != nil {
				t.Fatal(err)
			}
			set[0] = 'S'           // the caller's bytes are the caller's again
			for round := range 3 { // cold, then warm where memory keeps it
				got, err := b.Get("k")
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("memory %d, %d bytes, Get %d: %d bytes %q..., %v", memory, size, round, len(got), got[:min(len(got), 4)], err)
				}
				got[0] = 'X'
				_ = append(got[:1], 'Y') // writes past the length, where its capacity allows
			}
		}
	}
}

func TestWarmEqualsCold(t *testing.T) {
	b := open[string, any](t, t.TempDir(), Options{})
	b.Set("k", []any{1, "x", []int{2}})
	warm, _ := b.Get("k")
	b.Unload("k")
	cold, _ := b.Get("k")
	if !equalJSON(t, warm, cold) {
		t.Fatalf("warm %#v != cold %#v", warm, cold)
	}
}

func TestHostileKeysStayInside(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "bucket")
	b := open[string, int](t, dir, Options{})
	keys := []string{
		"../../x", "../x", "/etc/passwd", "a/b", "a\\b", ".", "..", "",
		"nul\x00byte", "\xff\xfe invalid utf-8", "\xed\xa0\x80", strings.Repeat("k", 1<<20),
		"con", "lock", "BUCKETCACHE", "counters", ".tmp-x",
	}
	index := make(map[string]int)
	for i, k := range keys {
		index[k] = i
		if err := b.Set(k, i); err != nil {
			t.Fatalf("Set(%.20q): %v", k, err)
		}
	}
	for i, k := range keys {
		if v, err := b.Get(k); v != i || err != nil {
			t.Fatalf("Get(%.20q): %d %v", k, v, err)
		}
		b.Unload(k)
		if v, err := b.Get(k); v != i || err != nil {
			t.Fatalf("cold Get(%.20q): %d %v", k, v, err)
		}
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		t.Fatalf("files created beside the bucket: %v", entries)
	}
	n := 0
	for k, v := range b.All() { // keys decoded from the files, byte for byte
		if i, ok := index[k]; !ok || v != i {
			t.Fatalf("All yielded %.20q=%d", k, v)
		}
		n++
	}
	if n != len(keys) {
		t.Fatalf("All yielded %d of %d", n, len(keys))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			t.Fatalf("Delete(%.20q): %v", k, err)
		}
	}
}

func TestBadKeysAreErrors(t *testing.T) {
	b := open[any, int](t, t.TempDir(), Options{})
	for _, k := range []any{func() {}, make(chan int), complex(1, 2)} {
		if err := b.Set(k, 1); err == nil || errors.Is(err, ErrNotFound) {
			t.Fatalf("Set(%T): %v", k, err)
		}
		if _, err := b.Get(k); err == nil || errors.Is(err, ErrNotFound) {
			t.Fatalf("Get(%T): %v", k, err)
		}
	}
}

func TestDecodeErrorNamesKey(t *testing.T) {
	dir := t.TempDir()
	strs := open[string, string](t, dir, Options{})
	ints := open[string, int](t, dir, Options{})
	strs.Set("the-key", "not a number")
	_, err := ints.Get("the-key")
	if err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "the-key") {
		t.Fatalf("decode error: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	if _, err := Open[string, int](file, Options{}); err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("Open on a file: %v", err)
	}
	if _, err := Open[string, int](t.TempDir(), Options{Lifetime: -time.Second}); err == nil {
		t.Fatal("negative Lifetime accepted")
	}
	if _, err := Open[string, int](t.TempDir(), Options{Codec: Raw}); err == nil {
		t.Fatal("Raw codec accepted an int value")
	}
	dir := t.TempDir()
	open[string, int](t, dir, Options{Shards: 32})
	if _, err := Open[string, int](dir, Options{Shards: 64}); err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("shard mismatch: %v", err)
	}
	if os.Geteuid() != 0 {
		ro := t.TempDir()
		os.Chmod(ro, 0o555)
		if _, err := Open[string, int](filepath.Join(ro, "sub"), Options{}); err == nil || !strings.Contains(err.Error(), ro) {
			t.Fatalf("Open in an unwritable parent: %v", err)
		}
	}
}

func TestClosedBucket(t *testing.T) {
	b, _ := Open[string, int](t.TempDir(), Options{})
	b.Close()
	if err := b.Set("k", 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Set after Close: %v", err)
	}
}

func TestLenClearStats(t *testing.T) {
	b := open[int, int](t, t.TempDir(), Options{})
	for i := 0; i < 10; i++ {
		b.Set(i, i*i)
	}
	b.Get(3)
	b.Get(3)
	b.Get(100)
	if n, err := b.Len(); n != 10 || err != nil {
		t.Fatalf("Len %d %v", n, err)
	}
	st := b.Stats()
	if st.Sets != 10 || st.Hits != 2 || st.MemoryHits != 2 || st.Misses != 1 {
		t.Fatalf("Stats %+v", st)
	}
	sum := 0
	for k, v := range b.All() {
		if v != k*k {
			t.Fatalf("All: %d=%d", k, v)
		}
		sum += k
	}
	if sum != 45 {
		t.Fatalf("All missed keys: sum %d", sum)
	}
	b.Clear()
	if n, _ := b.Len(); n != 0 {
		t.Fatalf("Len after Clear %d", n)
	}
}

func TestKeysOfOtherTypesAreSkipped(t *testing.T) {
	dir := t.TempDir()
	ints := open[int, string](t, dir, Options{})
	strs := open[string, string](t, dir, Options{})
	ints.Set(7, "int")
	strs.Set("7", "string")
	var got []string
	for k, v := range strs.All() {
		got = append(got, k+"="+v)
	}
	if len(got) != 1 || got[0] != "7=string" {
		t.Fatalf("string bucket iterated %v", got)
	}
	if v, _ := ints.Get(7); v != "int" {
		t.Fatal("the int key and the string key must be distinct entries")
	}
}

func TestSizeLimit(t *testing.T) {
	c := fakeclock.New()
	// A long grace: nothing written during the fill can be evicted yet, by
	// the background trims or by ours.
	b := open[int, string](t, t.TempDir(), Options{Now: c.Now, MaxEntries: 50, EvictionGrace: time.Hour, TrimInterval: time.Hour})
	for i := 0; i < 100; i++ {
		b.Set(i, "v")
		c.Advance(time.Second)
	}
	c.Advance(time.Hour)
	b.Get(0) // reads record their time once per grace: 0 is now the most recently used
	c.Advance(3 * time.Hour)
	// Whichever trim runs first (ours, or one in the background), the 55
	// least recently used go: entries 1 to 55.
	if _, err := b.Trim(context.Background()); err != nil {
		t.Fatal(err)
	}
	if u, st := b.Usage(), b.Stats(); u.Entries != 45 || st.Evictions != 55 {
		t.Fatalf("usage %+v, stats %+v", u, st)
	}
	if _, err := b.Get(0); err != nil {
		t.Fatal("recently read entry evicted")
	}
	for _, k := range []int{1, 55} {
		if _, err := b.Get(k); !errors.Is(err, ErrNotFound) {
			t.Fatalf("least recently used entry %d kept", k)
		}
	}
	if _, err := b.Get(56); err != nil {
		t.Fatal("entry 56 evicted")
	}
}
