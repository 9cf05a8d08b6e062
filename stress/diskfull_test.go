//go:build linux

package stress

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/deferred"
	"github.com/bucketcache/bucketcache/internal/selfcheck"
)

// expectErrno checks that err is a real I/O failure wrapping errno, names
// a path inside dir, and is not ErrNotFound.
func expectErrno(t *testing.T, what string, err error, errno syscall.Errno, dir string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: no error, want %v", what, errno)
	case !errors.Is(err, errno):
		t.Errorf("%s: %v, want an error wrapping %v", what, err, errno)
	case isNotFound(err):
		t.Errorf("%s: %v is ErrNotFound; a real I/O failure must not be", what, err)
	case !strings.Contains(err.Error(), dir):
		t.Errorf("%s: %q does not name the path (in %s)", what, err, dir)
	}
}

// TestDiskFull fills a 1 MiB tmpfs: Set, deferred Sync and Memoize fail with
// ENOSPC and the path, earlier values stay readable, nothing half-written
// stays, and once space is freed everything works again.
func TestDiskFull(t *testing.T) {
	if os.Getenv(childModeEnv) != "" {
		t.Skip("child")
	}
	mnt := mountTmpfs(t, "1m")
	dir := filepath.Join(mnt, "bucket")
	b := openBucket(t, dir, bucket.Options{Shards: 4})
	early := map[string]Value{}
	for i := range 5 {
		k := fmt.Sprintf("early/%d", i)
		early[k] = selfcheck.New(k, "early", 1, 1000)
		if err := b.Set(k, early[k]); err != nil {
			t.Fatal(err)
		}
	}
	mb, err := bucket.Open[int, Value](dir, bucket.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mb.Close() })
	runs := 0
	memo := bucket.Memoize(mb, "full", func(_ context.Context, arg int) (Value, error) {
		runs++
		return memoValue(arg), nil
	})

	// Fill: large values, then ever smaller ones, until even a tiny one fails.
	stored := map[string]Value{}
	sets, failed := 0, 0
	var fullErr error
	for _, pad := range []int{64 << 10, 4 << 10, 1} {
		for i := 0; ; i++ {
			k := fmt.Sprintf("fill/%d/%d", pad, i)
			v := selfcheck.New(k, "fill", 1, pad)
			err := b.Set(k, v)
			sets++
			if err != nil {
				failed++
				fullErr = err
				break
			}
			stored[k] = v
			if i > 10000 {
				t.Fatalf("1 MiB tmpfs took %d values of %d bytes", i, pad)
			}
		}
	}
	expectErrno(t, "Set on a full disk", fullErr, syscall.ENOSPC, dir)

	// A failed overwrite leaves the old value, in memory and on disk.
	for k := range early {
		err := b.Set(k, selfcheck.New(k, "early", 2, 64<<10))
		failed++
		expectErrno(t, "overwrite on a full disk", err, syscall.ENOSPC, dir)
	}
	fresh := openBucket(t, dir, bucket.Options{})
	for _, bb := range []*vbucket{b, fresh} {
		for k, want := range early {
			v, err := bb.Get(k)
			if err != nil {
				t.Errorf("Get(%q) after a failed overwrite: %v", k, err)
			} else if e := checkValue(k, v, "early", want.Seq); e != nil {
				t.Errorf("Get(%q) after a failed overwrite: %v", k, e)
			}
		}
	}

	// A deferred Sync fails as a whole here, and keeps everything pending.
	d := deferred.New(b)
	pending := map[string]Value{}
	for i := range 3 {
		k := fmt.Sprintf("deferred/%d", i)
		pending[k] = selfcheck.New(k, "deferred", 1, 8<<10)
		if err := d.Set(k, pending[k]); err != nil {
			t.Fatal(err)
		}
	}
	err = d.Sync()
	failed++
	expectErrno(t, "deferred Sync on a full disk", err, syscall.ENOSPC, dir)
	if d.Pending() != len(pending) {
		t.Errorf("%d writes pending after a failed Sync, want %d", d.Pending(), len(pending))
	}

	// Memoize returns the result and says it could not store it.
	v, err := memo(context.Background(), 7)
	failed++
	if e := checkValue(memoKey(7), v, "memo", 8); e != nil {
		t.Errorf("memo on a full disk returned %+v: %v", v, e)
	}
	expectErrno(t, "memo on a full disk", err, syscall.ENOSPC, dir)

	// A new bucket cannot even be created; the error says why and where.
	other := filepath.Join(mnt, "other")
	if ob, err := bucket.Open[string, Value](other, bucket.Options{}); err != nil {
		expectErrno(t, "Open of a new bucket on a full disk", err, syscall.ENOSPC, other)
	} else {
		ob.Close()
	}

	// Nothing half-written under an entry name, no temporary file left.
	scan := scanDir(t, dir, true)
	scan.expectClean(t, "full disk", false)

	// Free space: everything works again.
	freed := 0
	for k := range stored {
		if strings.HasPrefix(k, "fill/65536/") {
			if err := b.Delete(k); err != nil {
				t.Fatalf("Delete(%q) on a full disk: %v", k, err)
			}
			delete(stored, k)
			freed++
		}
	}
	if err := d.Sync(); err != nil {
		t.Errorf("deferred Sync after space was freed: %v", err)
	}
	for k := range early {
		v := selfcheck.New(k, "early", 3, 100)
		if err := b.Set(k, v); err != nil {
			t.Errorf("Set after space was freed: %v", err)
		}
		early[k] = v
	}
	if v, err := memo(context.Background(), 7); err != nil || checkValue(memoKey(7), v, "memo", 8) != nil {
		t.Errorf("memo after space was freed: %+v, %v", v, err)
	}
	if v, err := memo(context.Background(), 7); err != nil || checkValue(memoKey(7), v, "memo", 8) != nil {
		t.Errorf("memo hit after space was freed: %+v, %v", v, err)
	}
	if runs != 2 {
		t.Errorf("memoized function ran %d times, want 2 (the result of the first run could not be stored)", runs)
	}
	check := openBucket(t, dir, bucket.Options{})
	all := map[string]Value{}
	for _, m := range []map[string]Value{early, stored, pending} {
		for k, v := range m {
			all[k] = v
		}
	}
	lost := 0
	for k, want := range all {
		v, err := check.Get(k)
		if err != nil {
			lost++
			t.Errorf("Get(%q) at the end: %v", k, err)
		} else if e := checkValue(k, v, want.Writer, want.Seq); e != nil {
			lost++
			t.Errorf("Get(%q) at the end: %v", k, e)
		}
	}
	scanDir(t, dir, true).expectClean(t, "after space was freed", false)
	figures(t, "tmpfs", "1MiB", "sets", sets, "values-stored-when-full", len(stored)+freed,
		"writes-refused-ENOSPC", failed, "freed", freed, "values-checked-at-end", len(all), "lost", lost)
}

// TestReadOnly reads a bucket through a read-only bind mount while a writer
// uses it read-write, then through a read-only remount of the whole
// filesystem: writes fail with EROFS and the path, reads work, and a fresh
// Open works for reading.
func TestReadOnly(t *testing.T) {
	if os.Getenv(childModeEnv) != "" {
		t.Skip("child")
	}
	mnt := mountTmpfs(t, "8m")
	dir := filepath.Join(mnt, "bucket")
	rw, err := bucket.Open[string, Value](dir, bucket.Options{Shards: 8})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Value{}
	for i := range 40 {
		k := fmt.Sprintf("k/%d", i)
		want[k] = selfcheck.New(k, "rw", 1, 100+i*50)
		if err := rw.Set(k, want[k]); err != nil {
			t.Fatal(err)
		}
	}
	// An expired entry, which a Prune would have to remove.
	if err := rw.SetWithLifetime("expired", selfcheck.New("expired", "rw", 1, 1), time.Nanosecond); err != nil {
		t.Fatal(err)
	}
	mrw, err := bucket.Open[int, Value](dir, bucket.Options{})
	if err != nil {
		t.Fatal(err)
	}
	runs := 0
	fn := func(_ context.Context, arg int) (Value, error) {
		runs++
		return memoValue(arg), nil
	}
	for arg := range 3 {
		if _, err := bucket.Memoize(mrw, "ro", fn)(context.Background(), arg); err != nil {
			t.Fatal(err)
		}
	}
	mrw.Close()

	ro := bindReadOnly(t, mnt)
	rodir := filepath.Join(ro, "bucket")
	readOnlyChecks(t, "read-only bind mount", rodir, want, &runs, fn)

	// The writer goes on through the writable mount; the read-only reader
	// sees its writes.
	rob := openBucket(t, rodir, bucket.Options{})
	k := "k/0"
	if v, err := rob.Get(k); err != nil || checkValue(k, v, "rw", 1) != nil {
		t.Fatalf("Get(%q) read-only: %+v, %v", k, v, err)
	}
	want[k] = selfcheck.New(k, "rw", 2, 10)
	if err := rw.Set(k, want[k]); err != nil {
		t.Fatal(err)
	}
	if v, err := rob.Get(k); err != nil || checkValue(k, v, "rw", 2) != nil {
		t.Errorf("Get(%q) read-only after the writer replaced it: %+v, %v (stale)", k, v, err)
	}
	if err := rw.Delete("k/1"); err != nil {
		t.Fatal(err)
	}
	delete(want, "k/1")
	if _, err := rob.Get("k/1"); !isNotFound(err) {
		t.Errorf("Get(k/1) read-only after the writer deleted it: %v, want ErrNotFound", err)
	}
	rob.Close()
	rw.Close()

	// Now the whole filesystem, read-only.
	if err := syscall.Mount("", mnt, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount read-only: %v", err)
	}
	readOnlyChecks(t, "read-only filesystem", dir, want, &runs, fn)
	figures(t, "keys", len(want), "mounts", "bind-ro,remount-ro")
}

// readOnlyChecks opens the bucket at dir, on a read-only mount, and checks
// that reads work and writes fail with EROFS and the path.
func readOnlyChecks(t *testing.T, what, dir string, want map[string]Value, runs *int,
	fn func(context.Context, int) (Value, error)) {
	t.Helper()
	b, err := bucket.Open[string, Value](dir, bucket.Options{})
	if err != nil {
		t.Fatalf("%s: Open: %v", what, err)
	}
	defer b.Close()
	for k, w := range want {
		v, err := b.Get(k)
		if err != nil {
			t.Errorf("%s: Get(%q): %v", what, k, err)
		} else if e := checkValue(k, v, w.Writer, w.Seq); e != nil {
			t.Errorf("%s: Get(%q): %v", what, k, e)
		}
		if ok, err := b.Contains(k); !ok || err != nil {
			t.Errorf("%s: Contains(%q) = %v, %v", what, k, ok, err)
		}
	}
	if _, err := b.Get("absent"); !isNotFound(err) {
		t.Errorf("%s: Get of an absent key: %v, want ErrNotFound", what, err)
	}
	expectErrno(t, what+": Set", b.Set("k/2", selfcheck.New("k/2", "ro", 9, 1)), syscall.EROFS, dir)
	expectErrno(t, what+": Set of a new key", b.Set("new", selfcheck.New("new", "ro", 1, 1)), syscall.EROFS, dir)
	expectErrno(t, what+": Delete", b.Delete("k/2"), syscall.EROFS, dir)
	if v, err := b.Get("k/2"); err != nil || checkValue("k/2", v, "rw", 1) != nil {
		t.Errorf("%s: Get(k/2) after the refused writes: %+v, %v", what, v, err)
	}
	d := deferred.New(b)
	if err := d.Set("k/3", selfcheck.New("k/3", "ro", 9, 1)); err != nil {
		t.Fatal(err)
	}
	expectErrno(t, what+": deferred Sync", d.Sync(), syscall.EROFS, dir)
	if d.Pending() != 1 {
		t.Errorf("%s: %d writes pending after a refused Sync, want 1", what, d.Pending())
	}
	info, err := b.Prune()
	expectErrno(t, what+": Prune with an expired entry to remove", err, syscall.EROFS, dir)
	if info.Files != 0 {
		t.Errorf("%s: Prune claims to have removed %d files", what, info.Files)
	}
	if _, err := b.Get("expired"); !isNotFound(err) {
		t.Errorf("%s: Get of an expired entry: %v, want ErrNotFound", what, err)
	}

	mb, err := bucket.Open[int, Value](dir, bucket.Options{})
	if err != nil {
		t.Fatalf("%s: Open: %v", what, err)
	}
	defer mb.Close()
	memo := bucket.Memoize(mb, "ro", fn)
	before := *runs
	for arg := range 3 {
		v, err := memo(context.Background(), arg)
		if err != nil || checkValue(memoKey(arg), v, "memo", uint64(arg)+1) != nil {
			t.Errorf("%s: memo hit %d: %+v, %v", what, arg, v, err)
		}
	}
	if *runs != before {
		t.Errorf("%s: memoized function ran on a hit", what)
	}
	_, err = memo(context.Background(), 99)
	if err == nil {
		t.Errorf("%s: memo miss stored a result on a read-only bucket?", what)
	} else if !errors.Is(err, syscall.EROFS) {
		t.Errorf("%s: memo miss: %v, want an error wrapping EROFS", what, err)
	}
}
