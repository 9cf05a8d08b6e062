//go:build linux

package stress

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/internal/selfcheck"
	"github.com/bucketcache/bucketcache/shard"
)

// entryPath is the path of key's entry file in the bucket b.
func entryPath(t testing.TB, b *vbucket, key string) string {
	t.Helper()
	kb, err := engine(b).KeyBytes(key)
	if err != nil {
		t.Fatal(err)
	}
	h := shard.Hash(kb)
	return filepath.Join(b.Dir(), engine(b).Store.Layout().EntryPath(h))
}

// corruptor damages entry files the way disks, people and programs do.
type corruptor struct {
	rng   *rand.Rand
	kinds map[string]int // faults applied, by kind
}

// faultKinds are the faults damage may apply; each leaves a file that is not
// a valid entry for its name, or no file, except "mtime" (a wrong
// modification time on a whole entry, which must change nothing) and
// "swap"/"copy" (another key's whole entry under this name).
var faultKinds = []string{"flip", "flip-header", "truncate", "truncate-header", "extend",
	"zero", "garbage", "empty", "delete", "swap", "copy", "mtime"}

// damage applies a random fault to the file at path; other is the entry
// file of another key (for swap and copy). It returns the fault applied, or
// "" when there was no file to damage.
func (c *corruptor) damage(path, other string, kinds []string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.EISDIR) {
			return "", nil
		}
		return "", err
	}
	kind := kinds[c.rng.IntN(len(kinds))]
	if len(data) == 0 && kind != "delete" && kind != "swap" && kind != "copy" && kind != "mtime" && kind != "garbage" {
		return "", nil // already empty: nothing to flip or cut
	}
	inPlace := func(b []byte) error { // rewrite the same inode, as a bad disk would
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return err
		}
		_, err = f.Write(b)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	switch kind {
	case "flip", "flip-header":
		n := len(data)
		if kind == "flip-header" {
			n = min(n, 56)
		}
		if n == 0 {
			return "", nil
		}
		i := c.rng.IntN(n)
		data[i] ^= byte(1 + c.rng.IntN(255))
		err = inPlace(data)
	case "truncate":
		err = os.Truncate(path, c.rng.Int64N(int64(len(data))))
	case "truncate-header":
		err = os.Truncate(path, c.rng.Int64N(min(int64(len(data)), 56)))
	case "extend":
		extra := make([]byte, 1+c.rng.IntN(100))
		for i := range extra {
			extra[i] = byte(c.rng.Uint32())
		}
		err = inPlace(append(data, extra...))
	case "zero":
		err = inPlace(make([]byte, len(data)))
	case "garbage":
		g := make([]byte, c.rng.IntN(2*len(data)+1))
		for i := range g {
			g[i] = byte(c.rng.Uint32())
		}
		err = inPlace(g)
	case "empty":
		err = os.Truncate(path, 0)
	case "delete":
		err = os.Remove(path)
	case "swap":
		err = os.Rename(other, path)
		if errors.Is(err, os.ErrNotExist) {
			return "", nil
		}
	case "copy":
		var o []byte
		if o, err = os.ReadFile(other); errors.Is(err, os.ErrNotExist) {
			return "", nil
		} else if err == nil {
			err = inPlace(o)
		}
	case "mtime":
		past := time.Now().Add(-1000 * time.Hour)
		err = os.Chtimes(path, past, past)
	}
	if err != nil {
		return "", err
	}
	c.kinds[kind]++
	return kind, nil
}

// TestCorruption damages a populated bucket at random, then checks every Get
// through a Bucket that had the values in memory and a fresh one; then
// Prune, "bucketfs verify -fix" and rewrites; then the same while goroutines
// read and write.
func TestCorruption(t *testing.T) {
	if os.Getenv(childModeEnv) != "" {
		t.Skip("child")
	}
	prof := getProfile(t)
	rng, seed := rngFor(t)
	dir := filepath.Join(t.TempDir(), "bucket")
	warm := openBucket(t, dir, bucket.Options{Shards: prof.Shards})
	n := max(300, prof.Corruptions) // about one fault per entry: many damaged, many not
	keys := make([]string, n)
	want := map[string]Value{}
	for i := range keys {
		k := fmt.Sprintf("c/%d", i)
		keys[i] = k
		want[k] = selfcheck.New(k, "w", 1, rng.IntN(8<<10))
		if err := warm.Set(k, want[k]); err != nil {
			t.Fatal(err)
		}
		if _, err := warm.Get(k); err != nil { // in memory now
			t.Fatal(err)
		}
	}

	// Faults, each on a random key's file. A key whose file no fault but
	// "mtime" touched must read back exactly.
	c := &corruptor{rng: rng, kinds: map[string]int{}}
	touched := map[string]bool{}
	dirs := map[string]bool{}
	for range prof.Corruptions {
		i, j := rng.IntN(n), rng.IntN(n)
		if i == j {
			continue
		}
		path, other := entryPath(t, warm, keys[i]), entryPath(t, warm, keys[j])
		kind, err := c.damage(path, other, faultKinds)
		if err != nil {
			t.Fatalf("damage %s: %v", path, err)
		}
		switch kind {
		case "":
		case "mtime":
		case "swap":
			touched[keys[i]], touched[keys[j]] = true, true
		default:
			touched[keys[i]] = true
		}
	}
	// A few entry files replaced by directories.
	for range 3 {
		k := keys[rng.IntN(n)]
		path := entryPath(t, warm, k)
		os.Remove(path)
		if err := os.Mkdir(path, 0o755); err == nil {
			touched[k], dirs[k] = true, true
			c.kinds["directory"]++
		}
	}

	// Every Get: the right value, or ErrNotFound; and the right value for
	// every key no fault touched.
	fresh := openBucket(t, dir, bucket.Options{})
	right, missing, wrong := 0, 0, 0
	for _, b := range []*vbucket{warm, fresh} {
		for _, k := range keys {
			v, err := b.Get(k)
			switch {
			case err == nil:
				if e := checkValue(k, v, "w", 1); e != nil {
					wrong++
					t.Errorf("Get(%q) of a damaged bucket: %v", k, e)
				} else {
					right++
				}
			case isNotFound(err):
				missing++
				if !touched[k] {
					wrong++
					t.Errorf("Get(%q): %v, but no fault touched its file (lost value)", k, err)
				}
			default:
				wrong++
				t.Errorf("Get(%q): %v; damage must be ErrNotFound", k, err)
			}
			if ok, err := b.Contains(k); err != nil {
				t.Errorf("Contains(%q): %v", k, err)
			} else if !ok && !touched[k] {
				t.Errorf("Contains(%q) = false, but no fault touched its file", k)
			}
		}
	}

	// Prune removes what it can see is damaged, and never a live entry
	// (not even one whose modification time says it expired long ago).
	info, err := fresh.Prune()
	if err != nil {
		t.Errorf("Prune: %v", err)
	}
	for _, k := range keys {
		if touched[k] {
			continue
		}
		if v, err := fresh.Get(k); err != nil || checkValue(k, v, "w", 1) != nil {
			t.Errorf("Get(%q) after Prune: %+v, %v (Prune removed or damaged a live entry)", k, v, err)
		}
	}
	scan := scanDir(t, dir, true)
	for _, d := range scan.Damaged {
		t.Errorf("damaged file left after every key was read and the bucket pruned: %s", d)
	}
	// Faults that leave no entry magic (zeros, garbage, an empty file) make a
	// file that is no longer the bucket's: a miss, left alone.
	if info.Foreign > len(scan.Unowned)+len(scan.Dirs) {
		t.Errorf("Prune counted %d foreign files; the scan finds %d without the entry magic and %d directories",
			info.Foreign, len(scan.Unowned), len(scan.Dirs))
	}
	leftForeign := len(scan.Foreign)

	// bucketfs verify -fix removes the rest (entries under another key's
	// name, which a Get cannot tell from a hash collision).
	fixed := "skipped: "
	if bin, why := buildBucketfs(t); bin == "" {
		fixed += why
		t.Logf("SKIP verify -fix part: %s", why)
	} else {
		out, code := runBucketfs(t, bin, "verify", "-fix", dir)
		t.Logf("bucketfs verify -fix (exit %d):\n%s", code, out)
		if code < 0 || code > 1 {
			t.Errorf("bucketfs verify -fix exited %d", code)
		}
		after := scanDir(t, dir, true)
		for _, d := range append(after.Damaged, after.Foreign...) {
			t.Errorf("bucketfs verify -fix left a damaged file: %s", d)
		}
		if out, code := runBucketfs(t, bin, "verify", dir); code != 0 && len(after.Dirs) == 0 {
			t.Errorf("bucketfs verify after -fix exited %d:\n%s", code, out)
		}
		fixed = fmt.Sprint(leftForeign)
	}

	// Every key can be written again, except where a directory is in the
	// way; that is an error naming it, not ErrNotFound.
	for _, k := range keys {
		want[k] = selfcheck.New(k, "w", 2, rng.IntN(4<<10))
		err := warm.Set(k, want[k])
		switch {
		case err == nil:
		case dirs[k] && !isNotFound(err) && strings.Contains(err.Error(), dir):
			delete(want, k)
		default:
			t.Errorf("Set(%q) after damage: %v", k, err)
		}
	}
	check := openBucket(t, dir, bucket.Options{})
	for k, w := range want {
		if v, err := check.Get(k); err != nil || checkValue(k, v, "w", w.Seq) != nil {
			t.Errorf("Get(%q) after rewriting: %+v, %v", k, v, err)
		}
	}

	static := 0
	for _, v := range c.kinds {
		static += v
	}
	live := liveCorruption(t, rng, filepath.Join(t.TempDir(), "live"), prof.Shards, c)

	var kinds []string
	for k, v := range c.kinds {
		kinds = append(kinds, fmt.Sprintf("%s:%d", k, v))
	}
	sort.Strings(kinds)
	figures(t, "seed", seed, "entries", n, "faults", static, "by-kind(static+live)", strings.Join(kinds, ","),
		"gets-right", right, "gets-not-found", missing, "wrong-values", wrong,
		"pruned-damaged", info.Corrupt, "left-for-verify-fix", fixed,
		"live-phase", live)
}

// liveCorruption damages entry files while a writer and readers (with
// Buckets of their own, like separate processes) work on them. Readers must
// get intact values of their key that the writer wrote, never older than one
// they read before; at the end every key holds its last write or nothing.
func liveCorruption(t *testing.T, rng *rand.Rand, dir string, shards int, c *corruptor) string {
	const n = 64
	wb := openBucket(t, dir, bucket.Options{Shards: shards})
	keys := make([]string, n)
	latest := make([]atomic.Uint64, n) // last acknowledged write of each key
	begun := make([]atomic.Uint64, n)  // last write begun (a reader may see it before it is acknowledged)
	for i := range keys {
		keys[i] = fmt.Sprintf("live/%d", i)
		if err := wb.Set(keys[i], selfcheck.New(keys[i], "live", 1, 100)); err != nil {
			t.Fatal(err)
		}
		latest[i].Store(1)
		begun[i].Store(1)
	}
	errs := &errorBudget{t: t}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writes, reads, faults atomic.Int64
	wg.Add(1)
	wr := rand.New(rand.NewPCG(rng.Uint64(), 1))
	go func() { // the writer
		defer wg.Done()
		r := wr
		for {
			select {
			case <-stop:
				return
			default:
			}
			i := r.IntN(n)
			seq := latest[i].Load() + 1
			begun[i].Store(seq)
			if err := wb.Set(keys[i], selfcheck.New(keys[i], "live", seq, r.IntN(4<<10))); err != nil {
				errs.fail("Set(%q) during corruption: %v", keys[i], err)
				return
			}
			latest[i].Store(seq)
			writes.Add(1)
		}
	}()
	for g := range 3 { // readers
		rb := openBucket(t, dir, bucket.Options{})
		r := rand.New(rand.NewPCG(rng.Uint64(), uint64(2+g)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen := make([]uint64, n)
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := r.IntN(n)
				v, err := rb.Get(keys[i])
				reads.Add(1)
				switch {
				case err == nil:
					if e := checkValue(keys[i], v, "live", 0); e != nil {
						errs.fail("Get(%q) during corruption: %v", keys[i], e)
					} else if v.Seq < seen[i] || v.Seq > begun[i].Load() {
						errs.fail("Get(%q) during corruption: write %d; seen %d before, latest begun %d", keys[i], v.Seq, seen[i], begun[i].Load())
					} else {
						seen[i] = v.Seq
					}
				case !isNotFound(err):
					errs.fail("Get(%q) during corruption: %v", keys[i], err)
				}
			}
		}()
	}
	lc := &corruptor{rng: rand.New(rand.NewPCG(rng.Uint64(), 99)), kinds: c.kinds}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		i, j := lc.rng.IntN(n), lc.rng.IntN(n)
		if i == j {
			continue
		}
		kinds := []string{"flip", "truncate", "extend", "zero", "garbage", "empty", "delete", "swap", "copy"}
		kind, err := lc.damage(entryPath(t, wb, keys[i]), entryPath(t, wb, keys[j]), kinds)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("damage: %v", err) // a rename by the writer may race us: harmless
		}
		if kind != "" {
			faults.Add(1)
		}
	}
	close(stop)
	wg.Wait()
	fresh := openBucket(t, dir, bucket.Options{})
	for i, k := range keys {
		v, err := fresh.Get(k)
		switch {
		case err == nil:
			if e := checkValue(k, v, "live", latest[i].Load()); e != nil {
				t.Errorf("Get(%q) after the live corruption: %v (want the last write or nothing)", k, e)
			}
		case !isNotFound(err):
			t.Errorf("Get(%q) after the live corruption: %v", k, err)
		}
	}
	return fmt.Sprintf("writes:%d,reads:%d,faults:%d,wrong:%d", writes.Load(), reads.Load(), faults.Load(), errs.count())
}
