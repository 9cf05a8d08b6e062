package shard

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestNames(t *testing.T) {
	l, _ := New(256)
	if l.DirName(0) != "00" || l.DirName(255) != "ff" {
		t.Fatalf("dir names %q %q", l.DirName(0), l.DirName(255))
	}
	l16, _ := New(4096)
	if l16.DirName(10) != "00a" {
		t.Fatalf("4096 shards: %q", l16.DirName(10))
	}
	for _, h := range []uint64{0, 1, 0xdeadbeef, ^uint64(0)} {
		name := EntryName(h)
		got, ok := ParseEntryName(name)
		if !ok || got != h {
			t.Fatalf("ParseEntryName(%q) = %x %v", name, got, ok)
		}
		if strings.ContainsAny(name, "/\x00") {
			t.Fatalf("bad name %q", name)
		}
	}
	for _, bad := range []string{"", "lock", ".tmp-x", "0123.bc", "ABCDEF0123456789.bc", "0123456789abcdef", "0123456789abcdeg.bc"} {
		if _, ok := ParseEntryName(bad); ok {
			t.Fatalf("ParseEntryName accepted %q", bad)
		}
	}
	if i, ok := l.ParseDirName("0a"); !ok || i != 10 {
		t.Fatal("ParseDirName")
	}
	if _, ok := l.ParseDirName("100"); ok {
		t.Fatal("ParseDirName accepted an out-of-range name")
	}
}

func TestIndexSpread(t *testing.T) {
	l, _ := New(16)
	seen := make(map[int]int)
	for i := 0; i < 1600; i++ {
		seen[l.Index(Hash([]byte{byte(i), byte(i >> 8)}))]++
	}
	if len(seen) != 16 {
		t.Fatalf("only %d of 16 shards used", len(seen))
	}
}

func TestNewRange(t *testing.T) {
	for _, n := range []int{0, -1, MaxCount + 1} {
		if _, err := New(n); err == nil {
			t.Fatalf("New(%d) accepted", n)
		}
	}
}

func TestOpenRecordsLayout(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, 0)
	if err != nil || l.Count() != DefaultCount {
		t.Fatalf("Open: %v %v", l.Count(), err)
	}
	if _, err := Open(dir, 16); err == nil || !strings.Contains(err.Error(), "256 shards") {
		t.Fatalf("mismatch not refused: %v", err)
	}
	l2, err := Open(dir, 256)
	if err != nil || l2.Count() != 256 {
		t.Fatal(err)
	}
	dir2 := t.TempDir()
	if l, err := Open(dir2, 16); err != nil || l.Count() != 16 {
		t.Fatal(err)
	}
	if l, err := Open(dir2, 0); err != nil || l.Count() != 16 {
		t.Fatalf("later Open(0) must adopt the recorded count: %v %v", l.Count(), err)
	}
	if _, err := Read(t.TempDir()); !errors.Is(err, ErrNotBucket) {
		t.Fatalf("Read of an empty directory: %v", err)
	}
}

func TestOpenConcurrentCreatorsAgree(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	counts := make([]int, 16)
	errs := make([]error, 16)
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := 64
			if i%2 == 1 {
				want = 128
			}
			l, err := Open(dir, want)
			counts[i], errs[i] = l.Count(), err
		}()
	}
	wg.Wait()
	winner := 0
	for i := range counts {
		if errs[i] == nil {
			if winner != 0 && counts[i] != winner {
				t.Fatalf("two layouts succeeded: %d and %d", winner, counts[i])
			}
			winner = counts[i]
		}
	}
	if winner == 0 {
		t.Fatal("no creator succeeded")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if IsTempName(e.Name()) {
			t.Fatalf("temporary file left: %s", e.Name())
		}
	}
}

// TestOpenWhileAnotherPublishes is the moment between an Open's look for
// the record (none yet) and its look at what else the directory holds, in
// which another creator published the record: that Open must use the
// bucket, not call the directory foreign.
func TestOpenWhileAnotherPublishes(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir, 64); err != nil {
		t.Fatal(err)
	}
	if err := checkEmpty(dir); err != nil {
		t.Fatalf("a directory holding a bucket another process just made: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "stranger"), nil, 0o644)
	if err := checkEmpty(dir); !errors.Is(err, ErrForeign) {
		t.Fatalf("a directory holding another file: %v", err)
	}
}

// TestOpenConcurrentSameCount has many creators of one layout open a fresh
// directory at once, as processes starting together do: every one must
// succeed.
func TestOpenConcurrentSameCount(t *testing.T) {
	for range 20 {
		dir := t.TempDir()
		var wg sync.WaitGroup
		errs := make([]error, 16)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = Open(dir, 64)
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("creator %d: %v", i, err)
			}
		}
	}
}

func TestMalformedMeta(t *testing.T) {
	for _, content := range []string{"", "{", `{"format":9,"shards":256}`, `{"format":1,"shards":0}`, `{"format":1,"shards":256,"x":1}`} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, MetaName), []byte(content), 0o644)
		if _, err := Open(dir, 0); err == nil || !strings.Contains(err.Error(), dir) {
			t.Fatalf("metadata %q: err %v", content, err)
		}
	}
}

func TestCountersShared(t *testing.T) {
	dir := t.TempDir()
	l, _ := New(8)
	a, err := OpenCounters(dir, l)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenCounters(dir, l) // a second mapping, as another process has
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a.Load(3) != 0 || !Stable(a.Load(3)) {
		t.Fatal("new counter not zero")
	}
	a.Begin(3)
	if Stable(b.Load(3)) {
		t.Fatal("change under way not visible through the other mapping")
	}
	g := a.End(3)
	if b.Load(3) != g || !Stable(g) || g != 2 {
		t.Fatalf("after End: %d %d", b.Load(3), g)
	}
	if b.Load(2) != 0 {
		t.Fatal("neighbouring shard changed")
	}
	// A writer that died between Begin and End leaves the counter odd; the
	// next Begin repairs it.
	a.Begin(3)
	b.Begin(3)
	if g := b.End(3); !Stable(g) || g <= 2 {
		t.Fatalf("repair: %d", g)
	}
}

func TestUsage(t *testing.T) {
	dir := t.TempDir()
	l, _ := New(4)
	a, _ := OpenCounters(dir, l)
	defer a.Close()
	b, _ := OpenCounters(dir, l)
	defer b.Close()
	if _, _, known := a.Usage(1); known {
		t.Fatal("usage in a counters file made without a new bucket must be unknown")
	}
	dir2 := t.TempDir()
	Open(dir2, 4)
	c, _ := OpenCounters(dir2, l)
	defer c.Close()
	if by, n, known := c.Usage(3); !known || by != 0 || n != 0 {
		t.Fatal("a new bucket's shards must be known to be empty")
	}
	a.SetUsage(1, 100, 2)
	a.AddUsage(1, 50, 1)
	a.AddUsage(1, -30, -1)
	if by, n, known := b.Usage(1); by != 120 || n != 2 || !known {
		t.Fatalf("usage %d %d %v", by, n, known)
	}
	// A writer that died between Begin and End leaves the usage in doubt.
	a.Begin(1)
	b.Begin(1)
	b.End(1)
	if _, _, known := a.Usage(1); known {
		t.Fatal("usage still trusted after a writer died mid-change")
	}
}

// FuzzEntryPath: whatever the key bytes, the entry's path is two clean,
// relative components inside the bucket.
func FuzzEntryPath(f *testing.F) {
	for _, k := range []string{"", "../../x", "a/b", "\x00", "\xff", ".", "..", strings.Repeat("k", 300)} {
		f.Add([]byte(k), 256)
	}
	f.Fuzz(func(t *testing.T, key []byte, count int) {
		l, err := New(count)
		if err != nil {
			return
		}
		p := l.EntryPath(Hash(key))
		if filepath.Clean(p) != p || filepath.IsAbs(p) || strings.Contains(p, "..") {
			t.Fatalf("unsafe path %q", p)
		}
		dir, name := filepath.Split(p)
		if strings.Count(p, "/") != 1 || dir != l.DirName(l.Index(Hash(key)))+"/" {
			t.Fatalf("path %q is not shard/entry", p)
		}
		if h, ok := ParseEntryName(name); !ok || h != Hash(key) {
			t.Fatalf("name %q does not give the hash back", name)
		}
	})
}

func TestLimits(t *testing.T) {
	dir := t.TempDir()
	if l, err := ReadLimits(dir); err != nil || l != (Limits{}) {
		t.Fatalf("no limits recorded: %+v %v", l, err)
	}
	want := Limits{MaxBytes: 1 << 30, MaxEntries: 1000}
	if err := WriteLimits(dir, want); err != nil {
		t.Fatal(err)
	}
	if l, err := ReadLimits(dir); err != nil || l != want {
		t.Fatalf("read back %+v %v", l, err)
	}
	os.WriteFile(filepath.Join(dir, LimitsName), []byte("{"), 0o644)
	if _, err := ReadLimits(dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("malformed limits: %v", err)
	}
}

// EntryName and EntryPath, built without intermediate strings, spell the
// names the format specifies: 16 zero-padded hex digits, and the shard
// directory's zero-padded name before them.
func TestEntryNamesAreZeroPadded(t *testing.T) {
	for _, shards := range []int{1, 16, 256, 4096} {
		l, err := Open(t.TempDir(), shards)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []uint64{0, 1, 0xabc, 1 << 40, 0xfedcba9876543210, ^uint64(0)} {
			name := fmt.Sprintf("%016x%s", h, EntrySuffix)
			if got := EntryName(h); got != name {
				t.Errorf("EntryName(%#x) = %q, want %q", h, got, name)
			}
			if got, want := l.EntryPath(h), l.DirName(l.Index(h))+"/"+name; got != want {
				t.Errorf("%d shards: EntryPath(%#x) = %q, want %q", shards, h, got, want)
			}
			if back, ok := ParseEntryName(name); !ok || back != h {
				t.Errorf("ParseEntryName(%q) = %#x, %v", name, back, ok)
			}
		}
	}
}
