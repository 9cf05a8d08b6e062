//go:build linux

package stress

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/deferred"
	"github.com/bucketcache/bucketcache/fusefs"
	"github.com/bucketcache/bucketcache/internal/selfcheck"
	"github.com/bucketcache/bucketcache/internal/view"
	"github.com/bucketcache/bucketcache/shard"
)

// sentinelWriter marks the values of sentinel entries: a value written by
// it, read through the bucket, was read outside it.
const sentinelWriter = "SENTINEL"

// sentinelEntry is a valid entry file for key, holding a sentinel value.
func sentinelEntry(t testing.TB, b *vbucket, key string) []byte {
	t.Helper()
	kb, err := engine(b).KeyBytes(key)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(selfcheck.New(key, sentinelWriter, 666, 16))
	if err != nil {
		t.Fatal(err)
	}
	return shard.Append(nil, "json", time.Now().UnixNano(), 0, kb, data)
}

// symlinkCase is one kind of planted symlink.
type symlinkCase struct {
	name string
	// plant puts the symlink in place (again), pointing outside the bucket
	// dir into outside. It is called before every operation, since some
	// operations rightly remove it.
	plant func(t *testing.T, b *vbucket, dir, outside string)
}

// The keys of the symlink tests, all in the bucket's single shard.
const (
	victim    = "victim"
	shardmate = "shardmate"
)

// relink makes path a symlink to target unless it already is one.
func relink(t *testing.T, path, target string) {
	t.Helper()
	if got, err := os.Readlink(path); err == nil && got == target {
		return
	}
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

var symlinkCases = []symlinkCase{
	{"entry file", func(t *testing.T, b *vbucket, dir, outside string) {
		target := filepath.Join(outside, "sentinel.bc")
		if _, err := os.Stat(target); err != nil {
			writeFile(t, target, sentinelEntry(t, b, victim))
		}
		relink(t, entryPath(t, b, victim), target)
	}},
	{"shard directory", func(t *testing.T, b *vbucket, dir, outside string) {
		target := filepath.Join(outside, "shard")
		if _, err := os.Stat(target); err != nil {
			for _, k := range []string{victim, shardmate} {
				writeFile(t, filepath.Join(target, filepath.Base(entryPath(t, b, k))), sentinelEntry(t, b, k))
			}
			writeFile(t, filepath.Join(target, shard.TempPrefix+"sentinel"), []byte("a temporary-looking sentinel\n"))
			writeFile(t, filepath.Join(target, "0000000000000000"+shard.KeyLockSuffix), []byte("a key-lock-looking sentinel\n"))
			// No "lock" file: a lock taken through the symlink would create one.
		}
		sdir := filepath.Join(dir, engine(b).Store.Layout().DirName(0))
		if fi, err := os.Lstat(sdir); err == nil && fi.IsDir() {
			// The real shard directory goes aside, inside the bucket's parent
			// (watched like the rest of it from now on).
			if err := os.Rename(sdir, filepath.Join(filepath.Dir(dir), "shard-aside-"+time.Now().Format("150405.000000000"))); err != nil {
				t.Fatal(err)
			}
		}
		relink(t, sdir, target)
	}},
	{"shard lock file", func(t *testing.T, b *vbucket, dir, outside string) {
		// Dangling: a lock taken through it would create the target.
		relink(t, filepath.Join(dir, engine(b).Store.Layout().DirName(0), shard.LockName), filepath.Join(outside, "lock-target"))
	}},
	{"key lock file", func(t *testing.T, b *vbucket, dir, outside string) {
		target := filepath.Join(outside, "keylock-target")
		if _, err := os.Stat(target); err != nil {
			writeFile(t, target, []byte("sentinel\n"))
		}
		for _, k := range []string{victim, shardmate} {
			p := entryPath(t, b, k)
			relink(t, strings.TrimSuffix(p, shard.EntrySuffix)+shard.KeyLockSuffix, target)
		}
	}},
	{"temporary file", func(t *testing.T, b *vbucket, dir, outside string) {
		target := filepath.Join(outside, "tmp-target")
		if _, err := os.Stat(target); err != nil {
			writeFile(t, target, []byte("sentinel\n"))
		}
		relink(t, filepath.Join(dir, engine(b).Store.Layout().DirName(0), shard.TempName(0, 4321, 1)), target)
	}},
	{"counters file", func(t *testing.T, b *vbucket, dir, outside string) {
		target := filepath.Join(outside, "counters-target")
		if _, err := os.Stat(target); err != nil {
			writeFile(t, target, []byte("sentinel: a file that a symlink named counters points to\n"))
		}
		relink(t, filepath.Join(dir, shard.CountersName), target)
	}},
}

// TestPlantedSymlinks replaces files and directories of a bucket with
// symlinks to sentinels outside it (each sentinel a valid entry for the key
// where that matters, so that reading it would return a detectable value),
// then runs every operation, the bucketfs commands and the mount. No
// sentinel may be read, shown, created, changed or deleted; inotify watches
// everything outside the bucket.
func TestPlantedSymlinks(t *testing.T) {
	if os.Getenv(childModeEnv) != "" {
		t.Skip("child")
	}
	bin, why := buildBucketfs(t)
	if bin == "" {
		t.Logf("SKIP bucketfs commands: %s", why)
	}
	mountOK := fusefs.CheckFUSE()
	if mountOK != nil {
		if os.Getenv("BUCKETFS_REQUIRE_FUSE") == "1" {
			t.Fatalf("FUSE required (BUCKETFS_REQUIRE_FUSE=1): %v", mountOK)
		}
		t.Logf("SKIP mount part: %v", mountOK)
	}
	ops := 0
	for _, sc := range symlinkCases {
		t.Run(sc.name, func(t *testing.T) {
			ops += plantedSymlink(t, sc, bin, mountOK == nil)
		})
	}
	figures(t, "cases", len(symlinkCases), "operations", ops, "bucketfs", bin != "", "mount", mountOK == nil)
}

func plantedSymlink(t *testing.T, sc symlinkCase, bin string, mount bool) int {
	root := t.TempDir()
	dir := filepath.Join(root, "bucket")
	outside := filepath.Join(root, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := bucket.Options{Shards: 1}
	warm := openBucket(t, dir, opts)
	for _, k := range []string{victim, shardmate} {
		if err := warm.Set(k, selfcheck.New(k, "test", 1, 16)); err != nil {
			t.Fatal(err)
		}
		if _, err := warm.Get(k); err != nil {
			t.Fatal(err)
		}
	}
	mwarm, err := bucket.Open[string, Value](dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer mwarm.Close()
	memoWarm := bucket.Memoize(mwarm, "m", func(_ context.Context, a string) (Value, error) {
		return selfcheck.New(a, "memo", 1, 8), nil
	})
	if _, err := memoWarm(context.Background(), "first"); err != nil {
		t.Fatal(err)
	}

	sc.plant(t, warm, dir, outside)
	before := snapshot(t, root, dir)
	w := watchTree(t, root, dir)

	seq := uint64(1)
	noSentinel := func(what string, v Value, err error) {
		t.Helper()
		if err == nil && v.Writer == sentinelWriter {
			t.Errorf("%s returned the sentinel outside the bucket: %+v", what, v)
		}
		if err != nil && !isNotFound(err) && !strings.Contains(err.Error(), dir) {
			t.Logf("%s: %v (an error that does not name the bucket path)", what, err)
		}
	}
	n := 0
	step := func(what string, op func()) {
		t.Helper()
		sc.plant(t, warm, dir, outside)
		w.events(t, nil) // plant's own work
		op()
		n++
		for _, e := range w.events(t, func(p string) bool { return p == dir }) {
			t.Errorf("%s: outside the bucket: %s", what, e)
		}
	}
	var fresh *vbucket
	step("Open", func() {
		var err error
		fresh, err = bucket.Open[string, Value](dir, opts)
		if err != nil {
			t.Logf("Open: %v", err)
		} else {
			t.Cleanup(func() { fresh.Close() })
		}
	})
	buckets := []*vbucket{warm}
	if fresh != nil {
		buckets = append(buckets, fresh)
	}
	for _, b := range buckets {
		for _, k := range []string{victim, shardmate} {
			step("Get", func() { v, err := b.Get(k); noSentinel("Get("+k+")", v, err) })
			step("Contains", func() { b.Contains(k) })
		}
		step("Len", func() { b.Len() })
		step("All", func() {
			for k, v := range b.All() {
				noSentinel("All "+k, v, nil)
			}
		})
		for _, k := range []string{victim, shardmate} {
			step("Set", func() {
				seq++
				err := b.Set(k, selfcheck.New(k, "test", seq, 16))
				if isNotFound(err) {
					t.Errorf("Set(%s): %v", k, err)
				}
				if err == nil && sc.name == "entry file" {
					if v, err := b.Get(k); err != nil || v.Seq != seq {
						t.Errorf("Get(%s) after a Set over a planted symlink: %+v, %v", k, v, err)
					}
				}
			})
			step("Delete", func() { b.Delete(k) })
			step("Unload+Get", func() { b.Unload(k); v, err := b.Get(k); noSentinel("Get("+k+")", v, err) })
		}
		step("deferred Sync", func() {
			d := deferred.New(b)
			seq++
			d.Set(victim, selfcheck.New(victim, "test", seq, 16))
			d.Set(shardmate, selfcheck.New(shardmate, "test", seq, 16))
			d.Delete(victim)
			d.Sync()
		})
		step("Prune", func() {
			if info, err := b.Prune(); err == nil && sc.name == "temporary file" && info.Temp != 1 {
				t.Errorf("Prune removed %d temporary files, want the planted symlink", info.Temp)
			}
		})
	}
	for _, arg := range []string{"first", "second", victim} {
		step("memo", func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			v, err := memoWarm(ctx, arg)
			noSentinel("memo("+arg+")", v, err)
		})
	}
	if bin != "" {
		kb, _ := engine(warm).KeyBytes(victim)
		for _, args := range [][]string{{"ls", dir}, {"get", dir, view.Name(kb)}, {"stats", dir}, {"verify", dir}, {"verify", "-fix", dir}, {"prune", dir}} {
			step("bucketfs "+args[0], func() {
				out, _ := runBucketfs(t, bin, args...)
				if strings.Contains(out, sentinelWriter) {
					t.Errorf("bucketfs %v showed the sentinel:\n%s", args, out)
				}
			})
		}
	}
	if mount {
		step("mount", func() { readMount(t, dir) })
	}
	step("Clear", func() { warm.Clear() })

	for _, d := range diffSnapshots(before, snapshot(t, root, dir)) {
		if strings.Contains(d, "shard-aside-") && strings.HasPrefix(d, "created:") {
			continue // the test's own doing
		}
		t.Errorf("outside the bucket: %s", d)
	}
	return n
}

// readMount mounts a view of dir, reads every file and attribute in it, and
// fails if anything shows the sentinel.
func readMount(t *testing.T, dir string) {
	t.Helper()
	mnt := t.TempDir()
	srv, err := fusefs.Mount(dir, mnt, fusefs.Options{})
	if err != nil {
		t.Logf("mount: %v", err)
		return
	}
	defer func() {
		if err := srv.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
			srv.UnmountLazy()
		}
	}()
	err = filepath.WalkDir(mnt, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if strings.Contains(path, sentinelWriter) {
			t.Errorf("the mount shows %s", path)
		}
		if d.Type().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Logf("mount: read %s: %v", path, err)
			}
			if strings.Contains(string(data), sentinelWriter) {
				t.Errorf("the mount shows the sentinel in %s:\n%s", path, data)
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}
