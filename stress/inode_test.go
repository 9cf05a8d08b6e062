//go:build linux

package stress

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/internal/selfcheck"
)

// TestStaleAfterInodeReuse: a reader keeps version A of an entry in memory;
// another Bucket (another process, in effect) replaces it with B, then C.
// C's file may get A's inode number back (ext4 reuses freed inodes), and
// values of one size give files of one size. The reader must still return
// C. (Found by TestLoad's history check in a five-minute run: two reads
// returned values replaced a quarter of a second earlier.)
func TestStaleAfterInodeReuse(t *testing.T) {
	if os.Getenv(childModeEnv) != "" {
		t.Skip("child")
	}
	dir := filepath.Join(t.TempDir(), "bucket")
	w := openBucket(t, dir, bucket.Options{Shards: 1})
	r := openBucket(t, dir, bucket.Options{Shards: 1})
	k := "k"
	path := ""
	reused, stale := 0, 0
	seq := uint64(1)
	// Sequence numbers of one width give JSON values of one size.
	const base = 100000
	if err := w.Set(k, selfcheck.New(k, "w", base+seq, 64)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 500 && stale == 0; i++ {
		a, err := r.Get(k) // A, now in r's memory
		if err != nil {
			t.Fatal(err)
		}
		if path == "" {
			path = entryPath(t, r, k)
		}
		inoA := inode(t, path)
		for range 2 { // B, then C
			seq++
			if err := w.Set(k, selfcheck.New(k, "w", base+seq, 64)); err != nil {
				t.Fatal(err)
			}
		}
		if inode(t, path) == inoA {
			reused++
		}
		v, err := r.Get(k)
		if err != nil {
			t.Fatal(err)
		}
		if v.Seq != base+seq {
			stale++
			t.Errorf("round %d: Get returned write %d, the file holds write %d (A was write %d; inode reused: %v)",
				i, v.Seq-base, seq, a.Seq-base, inode(t, path) == inoA)
		}
	}
	t.Logf("inode numbers reused: %d times; stale reads: %d", reused, stale)
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}
