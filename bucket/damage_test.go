package bucket

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/bucketcache/bucketcache/shard"
)

// allocated returns the bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHugeFileIsACheapMiss: a 1 TiB sparse file planted in an entry's place
// is a miss for Get, Contains, Delete, All and Len, each of which reads the
// file's first bytes only and allocates a few KiB, never the file's size.
// (Before the format had one reader, Get allocated the whole file first and
// the process died of it.)
func TestHugeFileIsACheapMiss(t *testing.T) {
	dir := t.TempDir()
	b := open[string, string](t, dir, Options{Shards: 1, MemoryLimit: -1})
	if err := b.Set("k", "v"); err != nil {
		t.Fatal(err)
	}
	kb, _ := b.keyBytes("k")
	path := filepath.Join(dir, b.st.Layout().EntryPath(shard.Hash(kb)))
	// A sparse file of zeros, and one that starts like the entry it
	// replaced (its header then declares other lengths than the file's).
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, start := range map[string][]byte{"zeros": nil, "entry's start": good} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(path, start, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, 1<<40); err != nil {
				t.Skipf("cannot make a 1 TiB sparse file here: %v", err)
			}
			const limit = 64 << 10
			calls := []struct {
				name string
				call func() error
			}{
				{"Get", func() error {
					if _, err := b.Get("k"); !errors.Is(err, ErrNotFound) {
						return err
					}
					return nil
				}},
				{"Contains", func() error {
					if ok, err := b.Contains("k"); ok || err != nil {
						return errors.Join(err, errors.New("found"))
					}
					return nil
				}},
				{"All", func() error {
					for k := range b.All() {
						return errors.New("All yielded " + k)
					}
					return nil
				}},
				{"Len", func() error {
					if n, err := b.Len(); n != 0 || err != nil {
						return errors.Join(err, errors.New("counted"))
					}
					return nil
				}},
				{"Delete", func() error {
					if err := b.Delete("k"); !errors.Is(err, ErrNotFound) {
						return errors.Join(err, errors.New("Delete did not miss"))
					}
					return nil
				}},
			}
			for _, c := range calls {
				var err error
				if n := allocated(func() { err = c.call() }); n > limit {
					t.Errorf("%s allocated %d bytes for a miss, want at most %d", c.name, n, limit)
				}
				if err != nil {
					t.Errorf("%s: %v", c.name, err)
				}
			}
			// Zeros are not the bucket's (no magic): left alone. A file that
			// starts as an entry is the bucket's, damaged: Get removed it.
			_, err := os.Stat(path)
			if ours := start != nil; ours != errors.Is(err, os.ErrNotExist) {
				t.Errorf("after the calls, stat of the planted file: %v (the bucket's: %v)", err, ours)
			}
		})
	}
}

// TestForeignDirectory: Open refuses a non-empty directory that is not a
// bucket, with ErrNotBucket, and changes nothing in it; Adopt takes it on
// purpose, and then Prune and Clear still leave the files that are not the
// bucket's, including ones whose names look like its own.
func TestForeignDirectory(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"notes.txt":               "a person's notes",
		"00/0000000000000001.bc":  "looks like an entry's name",
		"00/.tmp-important":       "looks like a temporary file's name",
		"00/x.keylock":            "looks like a key lock's name",
		"00/0000000000000002.bc~": "a backup",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	snapshot := func() []string {
		var names []string
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			names = append(names, p)
			return nil
		})
		return names
	}
	before := snapshot()
	if _, err := Open[string, string](dir, Options{Shards: 1}); !errors.Is(err, ErrNotBucket) {
		t.Fatalf("Open of a foreign directory: %v, want ErrNotBucket", err)
	}
	if after := snapshot(); !slices.Equal(before, after) {
		t.Fatalf("a refused Open changed the directory: %q, then %q", before, after)
	}
	b := open[string, string](t, dir, Options{Shards: 1, Adopt: true})
	if err := b.Set("k", "v"); err != nil {
		t.Fatal(err)
	}
	if info, err := b.Prune(); err != nil || info.Files != 0 || info.Foreign != 1 {
		t.Fatalf("Prune = %+v, %v; want nothing removed and the entry-named file counted foreign", info, err)
	}
	if err := b.Clear(); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if data, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(data) != content {
			t.Errorf("%s after Prune and Clear: %q, %v", name, data, err)
		}
	}
	if _, err := b.Get("k"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Clear: %v", err)
	}
	// An empty directory, and a bucket directory, need no Adopt.
	open[string, string](t, t.TempDir(), Options{})
	open[string, string](t, dir, Options{})
}

// TestCloseIsIdempotent: a second Close returns nil; any other use after
// Close is ErrClosed.
func TestCloseIsIdempotent(t *testing.T) {
	b, err := Open[string, string](t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := b.Get("k"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
}
