package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/lock"
	"github.com/bucketcache/bucketcache/shard"

	"github.com/bucketcache/bucketcache/internal/fakeclock"
)

func open(t *testing.T, dir string, opts Config) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func rec(v string) Record { return Record{Codec: "raw", Value: []byte(v)} }

func mustGet(t *testing.T, s *Store, key string) string {
	t.Helper()
	r, err := s.Get([]byte(key))
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return string(r.Value)
}

func TestPutGetDelete(t *testing.T) {
	s := open(t, t.TempDir(), Config{})
	if _, err := s.Get([]byte("k")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of missing: %v", err)
	}
	if err := s.Put([]byte("k"), rec("v1")); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "k"); got != "v1" {
		t.Fatalf("got %q", got)
	}
	s.Put([]byte("k"), rec("v2"))
	if got := mustGet(t, s, "k"); got != "v2" {
		t.Fatalf("got %q", got)
	}
	if err := s.Delete([]byte("k")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete([]byte("k")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
	if ok, err := s.Contains([]byte("k")); ok || err != nil {
		t.Fatalf("Contains after Delete: %v %v", ok, err)
	}
}

func TestWarmGetIsServedFromMemory(t *testing.T) {
	s := open(t, t.TempDir(), Config{})
	s.Put([]byte("k"), rec("v"))
	mustGet(t, s, "k")
	mustGet(t, s, "k")
	if st := s.Stats(); st.MemoryHits != 2 {
		t.Fatalf("memory hits %d, want 2", st.MemoryHits)
	}
	// With the file gone behind the Store's back (no generation bump), memory
	// still answers: proof that the warm path reads no file.
	os.Remove(filepath.Join(s.Dir(), s.Layout().EntryPath(shard.Hash([]byte("k")))))
	if got := mustGet(t, s, "k"); got != "v" {
		t.Fatal(got)
	}
}

func TestOtherStoreSeesChanges(t *testing.T) {
	dir := t.TempDir()
	a := open(t, dir, Config{})
	b := open(t, dir, Config{})
	a.Put([]byte("k"), rec("one"))
	if got := mustGet(t, b, "k"); got != "one" {
		t.Fatal(got)
	}
	mustGet(t, b, "k") // now warm in b
	a.Put([]byte("k"), rec("two"))
	if got := mustGet(t, b, "k"); got != "two" {
		t.Fatalf("b served stale %q", got)
	}
	a.Delete([]byte("k"))
	if _, err := b.Get([]byte("k")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("b after delete: %v", err)
	}
}

func TestUnrelatedWriteKeepsCopyValid(t *testing.T) {
	dir := t.TempDir()
	a := open(t, dir, Config{Shards: 1})
	b := open(t, dir, Config{})
	a.Put([]byte("k"), rec("v"))
	mustGet(t, b, "k")
	a.Put([]byte("other"), rec("x")) // same shard: the generation moves on
	mustGet(t, b, "k")               // a stat shows the same file: still warm
	if st := b.Stats(); st.MemoryHits != 1 {
		t.Fatalf("memory hits %d", st.MemoryHits)
	}
}

// A copy the writer keeps is recorded without a stat: when another write
// moves the shard's generation on, a stat that shows the same file (size and
// version stamp) keeps it warm, and one that shows a file of the same size
// written since does not.
func TestWrittenCopyIsValidatedByItsStamp(t *testing.T) {
	dir := t.TempDir()
	a := open(t, dir, Config{Shards: 1})
	b := open(t, dir, Config{Shards: 1})
	a.Put([]byte("k"), rec("one"))
	b.Put([]byte("other"), rec("x")) // same shard: the generation moves on
	if got := mustGet(t, a, "k"); got != "one" || a.Stats().MemoryHits != 1 {
		t.Fatalf("Get %q with %d memory hits; want the kept copy", got, a.Stats().MemoryHits)
	}
	b.Put([]byte("k"), rec("two")) // same size, new version
	if got := mustGet(t, a, "k"); got != "two" {
		t.Fatalf("a served %q after b replaced it with a value of the same size", got)
	}
}

func TestExpiry(t *testing.T) {
	c := fakeclock.New()
	s := open(t, t.TempDir(), Config{Now: c.Now})
	exp := c.Now().Add(time.Minute)
	s.Put([]byte("k"), Record{Codec: "raw", Value: []byte("v"), ExpiresAt: exp})
	c.Advance(time.Minute)
	if got := mustGet(t, s, "k"); got != "v" {
		t.Fatal("entry dead at the exact instant of expiry")
	}
	c.Advance(time.Nanosecond)
	if _, err := s.Get([]byte("k")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired entry returned: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), s.Layout().EntryPath(shard.Hash([]byte("k"))))); !os.IsNotExist(err) {
		t.Fatal("expired entry not deleted by Get")
	}
	if s.Stats().Expired != 1 {
		t.Fatal("expired not counted")
	}
}

func TestLifetimeBoundsAgeButNeverDeletes(t *testing.T) {
	c := fakeclock.New()
	dir := t.TempDir()
	long := open(t, dir, Config{Now: c.Now})
	short := open(t, dir, Config{Now: c.Now, Lifetime: time.Minute})
	long.Put([]byte("k"), rec("v")) // never expires
	c.Advance(time.Minute)
	if got := mustGet(t, short, "k"); got != "v" {
		t.Fatal("dead at exactly Lifetime")
	}
	c.Advance(time.Nanosecond)
	if _, err := short.Get([]byte("k")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("too-old entry returned: %v", err)
	}
	if err := short.Delete([]byte("k")); !errors.Is(err, ErrNotFound) {
		t.Fatal("short Delete must not see it")
	}
	if info, _ := short.Prune(context.Background()); info.Files != 0 {
		t.Fatal("Prune removed another bucket's live entry")
	}
	if got := mustGet(t, long, "k"); got != "v" {
		t.Fatal("long bucket lost its entry")
	}
}

func TestDamageIsAMiss(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "sentinel")
	os.WriteFile(outside, shard.Append(nil, "raw", 1, 0, []byte("k"), []byte("SECRET")), 0o644)
	cases := []struct {
		name   string
		damage func(path string)
	}{
		{"empty", func(p string) { os.WriteFile(p, nil, 0o644) }},
		{"truncated", func(p string) { os.Truncate(p, 60) }},
		{"flipped", func(p string) { b, _ := os.ReadFile(p); b[len(b)-1] ^= 1; os.WriteFile(p, b, 0o644) }},
		{"magic", func(p string) { b, _ := os.ReadFile(p); b[0] = 'Z'; os.WriteFile(p, b, 0o644) }},
		{"foreign key", func(p string) {
			os.WriteFile(p, shard.Append(nil, "raw", 1, 0, []byte("other"), []byte("x")), 0o644)
		}},
		{"directory", func(p string) { os.Remove(p); os.Mkdir(p, 0o755) }},
		{"symlink", func(p string) { os.Remove(p); os.Symlink(outside, p) }},
		{"fifo", func(p string) { os.Remove(p); mkfifo(p) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := open(t, filepath.Join(dir, c.name), Config{MemoryLimit: -1})
			s.Put([]byte("k"), rec("v"))
			path := filepath.Join(s.Dir(), s.Layout().EntryPath(shard.Hash([]byte("k"))))
			c.damage(path)
			if _, err := s.Get([]byte("k")); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get: %v", err)
			}
			_, statErr := os.Lstat(path)
			switch c.name {
			case "truncated", "flipped":
				if !os.IsNotExist(statErr) {
					t.Fatal("Get left a damaged file in place")
				}
			default: // another key's entry, or not a file of ours (no magic, not a regular file): left alone
				if statErr != nil {
					t.Fatal("Get removed what was not its own damaged file")
				}
			}
			if ok, err := s.Contains([]byte("k")); ok || err != nil {
				t.Fatalf("Contains: %v %v", ok, err)
			}
			if err := s.Put([]byte("k"), rec("again")); c.name != "directory" && err != nil {
				t.Fatalf("Put over damage: %v", err)
			}
		})
	}
	data, _ := os.ReadFile(outside)
	if !bytes.Contains(data, []byte("SECRET")) {
		t.Fatal("sentinel outside the bucket was modified")
	}
}

func TestSymlinkedShardDirIsNotFollowed(t *testing.T) {
	s := open(t, t.TempDir(), Config{MemoryLimit: -1})
	key := []byte("k")
	s.Put(key, rec("v"))
	h := shard.Hash(key)
	shardDir := filepath.Join(s.Dir(), s.Layout().DirName(s.ShardOf(key)))
	outside := t.TempDir()
	sentinel := filepath.Join(outside, shard.EntryName(h))
	os.WriteFile(sentinel, shard.Append(nil, "raw", 1, 0, key, []byte("SECRET")), 0o644)
	os.RemoveAll(shardDir)
	os.Symlink(outside, shardDir)
	if r, err := s.Get(key); err == nil {
		t.Fatalf("read through a symlinked shard: %q", r.Value)
	}
	if err := s.Put(key, rec("x")); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("Put through a symlinked shard: %v", err)
	}
	s.Delete(key)
	s.Prune(context.Background())
	s.Clear(context.Background())
	if data, err := os.ReadFile(sentinel); err != nil || !bytes.Contains(data, []byte("SECRET")) {
		t.Fatalf("sentinel touched: %v", err)
	}
}

func TestFailedPutKeepsOldValue(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	s := open(t, t.TempDir(), Config{})
	s.Put([]byte("k"), rec("old"))
	d := filepath.Join(s.Dir(), s.Layout().DirName(s.ShardOf([]byte("k"))))
	os.Chmod(d, 0o555)
	defer os.Chmod(d, 0o755)
	err := s.Put([]byte("k"), rec("new"))
	if err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), d) {
		t.Fatalf("Put into read-only shard: %v", err)
	}
	if got := mustGet(t, s, "k"); got != "old" {
		t.Fatal(got)
	}
}

func TestPruneRemovesExpiredCorruptAndTemp(t *testing.T) {
	c := fakeclock.New()
	s := open(t, t.TempDir(), Config{Now: c.Now, Shards: 4})
	for _, k := range []string{"a", "b", "c"} {
		s.Put([]byte(k), Record{Codec: "raw", Value: []byte(k), ExpiresAt: c.Now().Add(time.Second)})
	}
	s.Put([]byte("live"), rec("forever"))
	s.Put([]byte("bad"), rec("x"))
	bad := filepath.Join(s.Dir(), s.Layout().EntryPath(shard.Hash([]byte("bad"))))
	os.Truncate(bad, 10)
	os.MkdirAll(filepath.Join(s.Dir(), s.Layout().DirName(0)), 0o755)
	tmp := filepath.Join(s.Dir(), s.Layout().DirName(0), shard.TempName(4, 1234, 1))
	if err := os.WriteFile(tmp, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Not the bucket's: a stranger's file, one whose name merely starts like
	// a temporary file's, and one named like an entry without the magic.
	stranger := filepath.Join(s.Dir(), s.Layout().DirName(1), "README")
	os.WriteFile(stranger, []byte("mine"), 0o644)
	lookalike := filepath.Join(s.Dir(), s.Layout().DirName(0), shard.TempPrefix+"important")
	os.WriteFile(lookalike, []byte("mine"), 0o644)
	alien := filepath.Join(s.Dir(), s.Layout().DirName(0), shard.EntryName(4))
	os.WriteFile(alien, []byte("0000000000000001 is a name, not an entry"), 0o644)
	c.Advance(2 * time.Second)
	info, err := s.Prune(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Expired != 3 || info.Corrupt != 1 || info.Temp != 1 || info.Files != 5 || info.Bytes <= 0 {
		t.Fatalf("PruneInfo %+v", info)
	}
	if got := mustGet(t, s, "live"); got != "forever" {
		t.Fatal(got)
	}
	for _, p := range []string{stranger, lookalike, alien} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("Prune removed %s, a file that is not the bucket's", p)
		}
	}
	if info.Foreign != 1 {
		t.Fatalf("PruneInfo %+v: want the entry-named file without the magic counted as foreign", info)
	}
	if info, _ := s.Prune(context.Background()); info.Files != 0 {
		t.Fatalf("second Prune found %+v", info)
	}
}

func TestLenAllClear(t *testing.T) {
	c := fakeclock.New()
	s := open(t, t.TempDir(), Config{Now: c.Now})
	for i := 0; i < 50; i++ {
		s.Put([]byte{byte(i)}, rec(string(rune('a'+i%26))))
	}
	s.Put([]byte("dying"), Record{Codec: "raw", Value: []byte("x"), ExpiresAt: c.Now().Add(time.Second)})
	c.Advance(2 * time.Second)
	if n, err := s.Count(context.Background(), nil); n != 50 || err != nil {
		t.Fatalf("Len %d %v", n, err)
	}
	seen := 0
	for f, err := range s.All(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		k, r := f.Key, f.Record
		if len(k) != 1 || string(r.Value) != string(rune('a'+int(k[0])%26)) {
			t.Fatalf("All yielded %q=%q", k, r.Value)
		}
		seen++
	}
	if seen != 50 {
		t.Fatalf("All yielded %d", seen)
	}
	if err := s.Clear(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Count(context.Background(), nil); n != 0 {
		t.Fatalf("Len after Clear %d", n)
	}
	if _, err := s.Get([]byte{1}); !errors.Is(err, ErrNotFound) {
		t.Fatal("warm copy survived Clear")
	}
}

func TestWriteShardTakesTheLockOnce(t *testing.T) {
	s := open(t, t.TempDir(), Config{Shards: 2})
	var items []Item
	for i := 0; len(items) < 20; i++ {
		k := []byte{byte(i)}
		if s.ShardOf(k) == 1 {
			items = append(items, Item{Key: k, Record: rec("v")})
		}
	}
	before := s.Stats().ShardLocks
	for _, err := range s.WriteShard(1, items) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := s.Stats().ShardLocks - before; n != 1 {
		t.Fatalf("%d lock acquisitions for one shard", n)
	}
	wrong := s.WriteShard(0, items[:1])
	if wrong[0] == nil {
		t.Fatal("WriteShard accepted a key of another shard")
	}
}

func TestOpenErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := Open(file, Config{}); err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("Open of a file: %v", err)
	}
	if _, err := Open(filepath.Join(file, "sub"), Config{}); err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("Open beneath a file: %v", err)
	}
	if _, err := Open(t.TempDir(), Config{Lifetime: -1}); err == nil {
		t.Fatal("negative lifetime accepted")
	}
	dir := t.TempDir()
	open(t, dir, Config{Shards: 8})
	if _, err := Open(dir, Config{Shards: 16}); err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("shard mismatch: %v", err)
	}
}

func TestClosed(t *testing.T) {
	s, _ := Open(t.TempDir(), Config{})
	s.Close()
	if _, err := s.Get([]byte("k")); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("a second Close: %v, want nil (Close is idempotent)", err)
	}
}

func TestMemoryLimit(t *testing.T) {
	s := open(t, t.TempDir(), Config{MemoryLimit: 64 << 10})
	big := strings.Repeat("x", 1000)
	for i := 0; i < 500; i++ {
		s.Put([]byte{byte(i), byte(i >> 8)}, rec(big))
	}
	if used := s.mem.used.Load(); used > 64<<10 {
		t.Fatalf("memory %d over limit", used)
	}
	for i := 0; i < 500; i++ {
		if got := mustGet(t, s, string([]byte{byte(i), byte(i >> 8)})); got != big {
			t.Fatal("wrong value after eviction")
		}
	}
}

func TestWriteShardMixesPutsAndDeletes(t *testing.T) {
	s := open(t, t.TempDir(), Config{Shards: 1})
	s.Put([]byte("gone"), rec("x"))
	errs := s.WriteShard(0, []Item{
		{Key: []byte("a"), Record: rec("1")},
		{Key: []byte("gone"), Delete: true},
		{Key: []byte("never-there"), Delete: true},
		{Key: []byte("b"), Record: Record{Value: []byte("no codec")}},
	})
	if errs[0] != nil || errs[1] != nil || errs[2] != nil || errs[3] == nil {
		t.Fatalf("errors %v", errs)
	}
	if got := mustGet(t, s, "a"); got != "1" {
		t.Fatal(got)
	}
	if _, err := s.Get([]byte("gone")); !errors.Is(err, ErrNotFound) {
		t.Fatal("deleted entry still there")
	}
	p, err := s.KeyLockPath([]byte("a"))
	if err != nil || !strings.HasPrefix(p, s.Dir()) || !strings.HasSuffix(p, shard.KeyLockSuffix) {
		t.Fatalf("KeyLockPath %q %v", p, err)
	}
}

func TestSharedFilesystemMode(t *testing.T) {
	dir := t.TempDir()
	a := open(t, dir, Config{SharedFilesystem: true})
	b := open(t, dir, Config{SharedFilesystem: true})
	if a.ctrs != nil {
		t.Fatal("shared counters mapped on a shared filesystem")
	}
	a.Put([]byte("k"), rec("one"))
	mustGet(t, b, "k")
	if got := mustGet(t, b, "k"); got != "one" || b.Stats().MemoryHits != 1 {
		t.Fatalf("warm read validated by stat: %q %+v", got, b.Stats())
	}
	a.Put([]byte("k"), rec("two"))
	if got := mustGet(t, b, "k"); got != "two" {
		t.Fatalf("stale value %q served from memory", got)
	}
	a.Delete([]byte("k"))
	if _, err := b.Get([]byte("k")); !errors.Is(err, ErrNotFound) {
		t.Fatal("deleted entry served from memory")
	}
	if u := a.Usage(); u.Known {
		t.Fatalf("usage claims to be known without counters: %+v", u)
	}
}

func TestSharedFilesystemTrim(t *testing.T) {
	c := fakeclock.New()
	// A long grace: background trims during the writes can evict nothing.
	s := open(t, t.TempDir(), Config{Now: c.Now, SharedFilesystem: true, MaxEntries: 10, EvictionGrace: time.Hour})
	for i := 0; i < 30; i++ {
		s.Put([]byte{byte(i)}, rec("v"))
		c.Advance(time.Second)
	}
	c.Advance(3 * time.Hour)
	info, err := s.Trim(context.Background())
	if err != nil || info.After.Entries != 9 || s.Stats().Evictions != 21 {
		t.Fatalf("trim without counters: %+v %v %+v", info, err, s.Stats())
	}
}

func TestPruneRemovesOnlyUnheldKeyLocks(t *testing.T) {
	s := open(t, t.TempDir(), Config{Shards: 1})
	s.Put([]byte("x"), rec("v")) // the shard exists
	dead, _ := s.KeyLockPath([]byte("dead"))
	os.WriteFile(dead, nil, 0o644) // left by a run whose process died
	live, _ := s.KeyLockPath([]byte("live"))
	held := lock.New(live)
	if ok, err := held.TryLock(); !ok || err != nil {
		t.Fatal(ok, err)
	}
	defer held.Remove()
	info, err := s.Prune(context.Background())
	if err != nil || info.Locks != 1 {
		t.Fatalf("PruneInfo %+v %v", info, err)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Fatal("leftover lock file kept")
	}
	if _, err := os.Stat(live); err != nil {
		t.Fatal("a held lock file was removed")
	}
}

// A large value is written from the caller's bytes after its entry's head:
// the file is the same entry, the caller's slice is not kept, and the
// memory layer holds the value only from its first read, never an older
// value of the key; unless the caller gave the value to the Store.
func TestLargeValue(t *testing.T) {
	s := open(t, t.TempDir(), Config{})
	if err := s.Put([]byte("k"), rec("small and old")); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "k") // kept in memory
	large := bytes.Repeat([]byte("0123456789abcdef"), largeValue/16+1)
	want := string(large)
	if err := s.Put([]byte("k"), Record{Codec: "blob", Value: large}); err != nil {
		t.Fatal(err)
	}
	large[0] = 'X' // the caller's bytes are the caller's again
	before := s.Stats().MemoryHits
	if got := mustGet(t, s, "k"); got != want {
		t.Fatalf("first Get after a large Put: %d bytes, want the %d written", len(got), len(want))
	}
	if s.Stats().MemoryHits != before {
		t.Fatal("the first Get of a large value came from memory")
	}
	if got := mustGet(t, s, "k"); got != want || s.Stats().MemoryHits != before+1 {
		t.Fatalf("second Get: %d bytes, memory hits %d (want %d)", len(got), s.Stats().MemoryHits, before+1)
	}
	// Given to the Store, a large value is kept in memory from its write.
	owned := bytes.Repeat([]byte("fedcba9876543210"), largeValue/16+1)
	if err := s.PutOwned([]byte("o"), Record{Codec: "blob", Value: owned}); err != nil {
		t.Fatal(err)
	}
	before = s.Stats().MemoryHits
	if got := mustGet(t, s, "o"); got != string(owned) || s.Stats().MemoryHits != before+1 {
		t.Fatalf("Get after PutOwned: %d bytes, memory hits %d (want %d)", len(got), s.Stats().MemoryHits, before+1)
	}
	data, err := os.ReadFile(filepath.Join(s.Dir(), s.Layout().EntryPath(shard.Hash([]byte("k")))))
	if err != nil {
		t.Fatal(err)
	}
	if e, err := shard.Decode(data); err != nil || string(e.Value) != want {
		t.Fatalf("the file is not the entry: %v", err)
	}
}

// A large value of the raw codec read from its file is handed to the caller
// (Private) rather than kept: a later read goes to the file again. A small
// one is kept, and what memory serves is never Private.
func TestLargeRawValueIsHandedOver(t *testing.T) {
	s := open(t, t.TempDir(), Config{})
	large := bytes.Repeat([]byte("0123456789abcdef"), largeValue/16+1)
	if err := s.Put([]byte("large"), Record{Codec: RawCodec, Value: large}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put([]byte("small"), Record{Codec: RawCodec, Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	s.Forget([]byte("small"))
	for range 2 {
		r, err := s.Get([]byte("large"))
		if err != nil || !bytes.Equal(r.Value, large) || !r.Private || r.Slot != nil {
			t.Fatalf("Get of a large raw value: %d bytes, private %v, slot %v, %v", len(r.Value), r.Private, r.Slot != nil, err)
		}
		r.Value[0] = 'X' // the caller's own
	}
	if hits := s.Stats().MemoryHits; hits != 0 {
		t.Fatalf("%d Gets of the large raw value came from memory", hits)
	}
	first, _ := s.Get([]byte("small"))
	second, _ := s.Get([]byte("small"))
	if first.Private || second.Private || s.Stats().MemoryHits != 1 {
		t.Fatalf("small raw value: private %v then %v, memory hits %d; want kept and shared", first.Private, second.Private, s.Stats().MemoryHits)
	}
}
