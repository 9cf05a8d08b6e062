//go:build linux

package stress

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/deferred"
)

// hostileKeys returns keys meant to escape a directory or confuse a naming
// scheme, and count random ones made of the same ingredients.
func hostileKeys(rng *rand.Rand, count int) []string {
	keys := []string{
		"", ".", "..", "/", "//", "./", "../", "../../x", "../../../../sentinel", "../../../../../../etc/passwd",
		"a/b", "/etc/passwd", "/", "..\\..\\x", "\\", "C:\\x", "%2e%2e%2f", "%2e%2e/x",
		"\x00", "a\x00b", "\x00../x", "../\x00", "\xff\xfe", "\xed\xa0\x80", "\xc0\xaf", "\xc0\xae\xc0\xae/",
		"\u202e\u2066rtl", "a\nb", "\t", " ", "~", "~root", "$HOME", "`touch pwned`", "$(touch pwned)",
		"lock", "BUCKETCACHE", "counters", ".tmp-x", "00", "00/0000000000000000.bc", "0000000000000000.bc",
		"0000000000000000.keylock", "con", "nul", "aux", "com1",
		"\"quoted\"", "\\u002e\\u002e", "=x", "x~0123456789abcdef",
		strings.Repeat("../", 1<<20/3),
		strings.Repeat("a", 1<<20),
		strings.Repeat("\xff", 1<<20),
		strings.Repeat("/", 4096),
		strings.Repeat("é", 200),
	}
	parts := []string{".", "..", "/", "\\", "\x00", "\xff", "\xc0", "\x80", "a", "~", "%", "\n", "é", ".tmp-", ".bc"}
	for range count {
		var b strings.Builder
		for n := rng.IntN(40); n > 0; n-- {
			if rng.IntN(4) == 0 {
				b.WriteByte(byte(rng.IntN(256)))
			} else {
				b.WriteString(parts[rng.IntN(len(parts))])
			}
		}
		keys = append(keys, b.String())
	}
	return keys
}

// TestHostileKeys stores, reads, lists, memoizes, syncs, deletes, prunes and
// clears hostile keys in a bucket deep inside a directory full of sentinel
// files, with inotify watching every directory but the bucket, and compares
// snapshots of everything around the bucket before and after.
func TestHostileKeys(t *testing.T) {
	if os.Getenv(childModeEnv) != "" {
		t.Skip("child")
	}
	prof := getProfile(t)
	rng, seed := rngFor(t)
	root := t.TempDir()
	dir := filepath.Join(root, "a", "b", "c", "bucket")
	for _, p := range []string{"sentinel", "x", "a/x", "a/b/x", "a/b/c/x", "a/b/c/sentinel", "etc/passwd", "a/b/c/lock", "a/b/c/00/0000000000000000.bc", "pwned-not"} {
		writeFile(t, filepath.Join(root, p), []byte("sentinel "+p+"\n"))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cwd, _ := os.Getwd()
	before := snapshot(t, root, dir)
	w := watchTree(t, root, dir)
	cw := watchTree(t, cwd)

	keys := hostileKeys(rng, prof.Hostile)
	b, err := bucket.Open[string, string](dir, bucket.Options{Codec: bucket.Raw, Shards: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	distinct := map[string]bool{}
	for _, k := range keys {
		distinct[k] = true
		if err := b.Set(k, "v:"+k); err != nil {
			t.Errorf("Set(%s): %v", short(k), err)
		}
	}
	fresh, err := bucket.Open[string, string](dir, bucket.Options{Codec: bucket.Raw})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	for _, bb := range []*bucket.Bucket[string, string]{b, fresh} {
		for k := range distinct {
			v, err := bb.Get(k)
			if err != nil || v != "v:"+k {
				t.Errorf("Get(%s) = %s, %v; want its own value", short(k), short(v), err)
			}
			if ok, err := bb.Contains(k); !ok || err != nil {
				t.Errorf("Contains(%s) = %v, %v", short(k), ok, err)
			}
		}
	}
	listed := 0
	for k, v := range fresh.All() {
		if !distinct[k] || v != "v:"+k {
			t.Errorf("All yielded %s = %s", short(k), short(v))
		}
		listed++
	}
	if listed != len(distinct) {
		t.Errorf("All yielded %d entries, want %d", listed, len(distinct))
	}

	// Memoized with hostile arguments: each runs once, the second call hits.
	mb, err := bucket.Open[string, string](dir, bucket.Options{Codec: bucket.Raw})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	runs := 0
	memo := bucket.Memoize(mb, "hostile/../..", func(_ context.Context, a string) (string, error) {
		runs++
		return "m:" + a, nil
	})
	for range 2 {
		for k := range distinct {
			if v, err := memo(context.Background(), k); err != nil || v != "m:"+k {
				t.Errorf("memo(%s) = %s, %v", short(k), short(v), err)
			}
		}
	}
	if runs != len(distinct) {
		t.Errorf("memoized function ran %d times for %d distinct arguments", runs, len(distinct))
	}

	// Deferred writes of every key.
	err = deferred.Write(b, func(d *deferred.Bucket[string, string]) error {
		for k := range distinct {
			if err := d.Set(k, "d:"+k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Errorf("deferred Write: %v", err)
	}
	for k := range distinct {
		if v, err := fresh.Get(k); err != nil || v != "d:"+k {
			t.Errorf("Get(%s) after Sync = %s, %v", short(k), short(v), err)
		}
	}
	scan := scanDir(t, dir, true)
	scan.expectClean(t, "bucket of hostile keys", false)
	if want := 2 * len(distinct); scan.Entries != want {
		t.Errorf("%d entry files for %d keys and %d memoized results", scan.Entries, len(distinct), len(distinct))
	}

	for k := range distinct {
		if err := fresh.Delete(k); err != nil {
			t.Errorf("Delete(%s): %v", short(k), err)
		}
		if _, err := b.Get(k); !isNotFound(err) {
			t.Errorf("Get(%s) after Delete: %v, want ErrNotFound", short(k), err)
		}
	}
	if _, err := b.Prune(); err != nil {
		t.Errorf("Prune: %v", err)
	}
	if err := b.Clear(); err != nil {
		t.Errorf("Clear: %v", err)
	}
	if n, err := b.Len(); n != 0 || err != nil {
		t.Errorf("Len after Clear = %d, %v", n, err)
	}

	// Nothing outside the bucket was touched, not even read.
	events := w.events(t, func(p string) bool { return p == dir })
	events = append(events, cw.events(t, nil)...)
	for _, e := range events {
		t.Errorf("outside the bucket: %s", e)
	}
	diffs := diffSnapshots(before, snapshot(t, root, dir))
	for _, d := range diffs {
		t.Errorf("outside the bucket: %s", d)
	}
	figures(t, "seed", seed, "hostile-keys", len(distinct), "fixed", len(keys)-prof.Hostile, "random", prof.Hostile,
		"largest-key-bytes", 1<<20, "operations", 9*len(distinct),
		"events-outside", len(events), "files-changed-outside", len(diffs))
}

// short renders a key or value for a message.
func short(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%q...(%d bytes)", s[:40], len(s))
	}
	return fmt.Sprintf("%q", s)
}
