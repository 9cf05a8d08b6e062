//go:build linux

package multihost

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/shard"
)

// entryFiles returns the entry files under the bucket directory dir,
// relative to it.
func entryFiles(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files := map[string]bool{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if _, ok := shard.ParseEntryName(d.Name()); ok && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			files[rel] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// damages are the ways entry files are damaged, by another host or by the
// filesystem: each takes the entry file's path and one of another entry.
// A file that is not an entry at all (foreign: it lacks the format's magic)
// is a miss too, but is not the bucket's to remove.
type damage struct {
	name    string
	do      func(path, other string) error
	foreign bool
}

var damages = []damage{
	{"truncated", func(path, _ string) error {
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		return os.Truncate(path, st.Size()/2)
	}, false},
	{"a byte changed in place", func(path, _ string) error {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		b := make([]byte, 1)
		st, _ := f.Stat()
		off := st.Size() - 3
		if _, err := f.ReadAt(b, off); err != nil {
			f.Close()
			return err
		}
		b[0] ^= 0x5a
		_, err = f.WriteAt(b, off)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}, false},
	{"emptied", func(path, _ string) error { return os.Truncate(path, 0) }, true},
	{"replaced by garbage", func(path, _ string) error {
		tmp := path + ".garbage"
		if err := os.WriteFile(tmp, []byte("not an entry, not at all\n"), 0o644); err != nil {
			return err
		}
		return os.Rename(tmp, path)
	}, true},
	{"replaced by a symlink to another entry", func(path, other string) error {
		tmp := path + ".link"
		if err := os.Symlink(other, tmp); err != nil {
			return err
		}
		return os.Rename(tmp, path)
	}, false},
	{"replaced by another entry's file", func(path, other string) error {
		data, err := os.ReadFile(other)
		if err != nil {
			return err
		}
		tmp := path + ".copy"
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			return err
		}
		return os.Rename(tmp, path)
	}, false},
}

// TestDamagedFiles: host A writes entries, and host B reads them all, so
// that it holds them in memory; then A damages most of the files through its
// mount (six kinds of damage), and B reads every key again, warm and cold,
// and so does A: a damaged entry is a miss, never an error or a wrong
// value, and an intact one reads right. The reads remove the damaged files
// they meet, and Prune, from both hosts at once, the rest (symlinks): then
// only the intact files, and the foreign ones, are left. After it, A's new
// values reach B.
//
// One exception, GlusterFS's: a file changed in place (never done by the
// bucket, which replaces whole files) may go unseen on the other host,
// whose page cache keeps the bytes it read before; B then returns the value
// as it was written, which is still right.
func TestDamagedFiles(t *testing.T) { onEach(t, testDamagedFiles) }

func testDamagedFiles(t *testing.T, bd *bed) {
	rel := bd.bucketDir(t)
	opts := bucket.Options{Shards: 4}
	a, warm := openHosts[string, string](t, bd, rel, opts)
	const keys = 42
	value := func(k, round int) string { return fmt.Sprintf("value of key %d, round %d, %0200d", k, round, k) }
	key := func(k int) string { return fmt.Sprint("key-", k) }
	// Which file holds which key: the file each Set adds.
	fileOf := map[int]string{}
	known := map[string]bool{}
	for k := range keys {
		if err := a.Set(key(k), value(k, 1)); err != nil {
			t.Fatal(err)
		}
		for f := range entryFiles(t, bd.at("A", rel)) {
			if !known[f] {
				known[f] = true
				fileOf[k] = f
			}
		}
		if fileOf[k] == "" {
			t.Fatalf("Set of %s added no entry file", key(k))
		}
		if v, err := warm.Get(key(k)); err != nil || v != value(k, 1) {
			t.Fatalf("host B: %s: %q, %v", key(k), v, err)
		}
	}
	// Every seventh key stays intact; the others get each kind of damage.
	damaged := map[int]string{}
	for k := range keys {
		if k%7 == 6 {
			continue
		}
		d := damages[k%7]
		path := filepath.Join(bd.at("A", rel), fileOf[k])
		other := filepath.Join(bd.at("A", rel), fileOf[(k+1)%keys])
		if err := d.do(path, other); err != nil {
			t.Fatalf("%s: %s: %v", key(k), d.name, err)
		}
		damaged[k] = d.name
	}
	cold, err := bucket.Open[string, string](bd.at("B", rel), bucket.Options{Shards: 4, MemoryLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer cold.Close()
	unseen := 0 // in-place damage the other host did not see
	check := func(what string, b *bucket.Bucket[string, string], round int) {
		for k := range keys {
			v, err := b.Get(key(k))
			switch {
			case damaged[k] == damages[1].name && err == nil && v == value(k, round) && b != a:
				unseen++
			case damaged[k] != "":
				if !errors.Is(err, bucket.ErrNotFound) {
					t.Errorf("%s: %s (%s): %.30q, %v; want a miss", what, key(k), damaged[k], v, err)
				}
			case err != nil || v != value(k, round):
				t.Errorf("%s: %s (intact): %.30q, %v", what, key(k), v, err)
			}
		}
	}
	check("host B, warm", warm, 1)
	check("host B, cold", cold, 1)
	check("host A", a, 1)
	if n := warm.Stats().Corrupt + cold.Stats().Corrupt; n == 0 {
		t.Error("host B counted no damaged entry file")
	}

	// Prune from both hosts at once.
	var wg sync.WaitGroup
	infos := make([]bucket.PruneInfo, 2)
	errs := make([]error, 2)
	for i, b := range []*bucket.Bucket[string, string]{a, warm} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			infos[i], errs[i] = b.Prune()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("host %s: Prune: %v", []string{"A", "B"}[i], err)
		}
	}
	symlinks := 0
	for _, d := range damaged {
		if d == damages[4].name {
			symlinks++
		}
	}
	if n := infos[0].Corrupt + infos[1].Corrupt; n < symlinks {
		t.Errorf("Prune on both hosts removed %d + %d damaged files, want at least the %d symlinks", infos[0].Corrupt, infos[1].Corrupt, symlinks)
	}
	kindOf := map[string]string{}
	for k, f := range fileOf {
		kindOf[f] = cmp.Or(damaged[k], "intact")
	}
	left := []string{}
	for f := range entryFiles(t, bd.at("B", rel)) {
		left = append(left, f+" ("+kindOf[f]+")")
	}
	sort.Strings(left)
	keep := 0 // intact and foreign files
	for k := range keys {
		if d, ok := damaged[k]; !ok || slices.ContainsFunc(damages, func(x damage) bool { return x.name == d && x.foreign }) {
			keep++
		}
	}
	if len(left) != keep {
		t.Errorf("after Prune, %d entry files left, want the %d intact and foreign ones: %v", len(left), keep, left)
	}
	check("host B after Prune", warm, 1)

	// A writes every key again: B reads the new values, warm and cold.
	for k := range keys {
		if err := a.Set(key(k), value(k, 2)); err != nil {
			t.Fatal(err)
		}
	}
	ndamaged := len(damaged)
	damaged = map[int]string{}
	check("host B, warm, rewritten", warm, 2)
	check("host B, cold, rewritten", cold, 2)
	t.Logf("%d entries, %d damaged in %d ways: missed on both hosts, warm and cold, but for %d reads on B of a file changed in place, which returned the value as written; Prune removed %d + %d",
		keys, ndamaged, len(damages), unseen, infos[0].Corrupt, infos[1].Corrupt)
	fmt.Fprintf(os.Stderr, "FIGURES damage-%s: entries=%d damaged=%d kinds=%d unseen_in_place=%d pruned=%d failed=%v\n",
		bd.fs.name, keys, ndamaged, len(damages), unseen, infos[0].Corrupt+infos[1].Corrupt, t.Failed())
}
