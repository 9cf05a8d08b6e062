//go:build unix

package fsx

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bucketcache/bucketcache/internal/posix"
)

// The walk one component at a time (the portable path, and the fast path's
// fallback) opens what is beneath root and refuses every way out.
func TestOpenByComponents(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o644)
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "00"), 0o755)
	os.WriteFile(filepath.Join(dir, "00", "a.bc"), []byte("entry"), 0o644)
	os.Symlink(outside, filepath.Join(dir, "01"))                                  // a shard that is a link
	os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "00", "b.bc")) // an entry that is a link
	root, err := posix.Open(dir, posix.O_RDONLY|posix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer posix.Close(root)

	fd, err := openByComponents(root, "00/a.bc", posix.O_RDONLY, 0)
	if err != nil {
		t.Fatalf("open beneath: %v", err)
	}
	buf := make([]byte, 5)
	if n, err := File(fd).ReadAt(buf, 0); n != 5 || err != nil || string(buf) != "entry" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	posix.Close(fd)
	if fd, err := openByComponents(root, "00", posix.O_RDONLY|posix.O_DIRECTORY, 0); err != nil {
		t.Fatalf("open a shard directory: %v", err)
	} else {
		posix.Close(fd)
	}

	for _, rel := range []string{"01/secret", "01", "00/b.bc"} {
		if fd, err := openByComponents(root, rel, posix.O_RDONLY, 0); !IsLink(err) {
			posix.Close(fd)
			t.Errorf("%s (through a symbolic link): %v, want ELOOP", rel, err)
		}
	}
	if fd, err := openByComponents(root, "01", posix.O_RDONLY|posix.O_DIRECTORY, 0); !IsLink(err) {
		posix.Close(fd)
		t.Errorf("a symbolic link as a directory: %v, want ELOOP", err)
	}
	for _, rel := range []string{"../" + filepath.Base(outside) + "/secret", "00/../../x", filepath.Join(outside, "secret"), ""} {
		if fd, err := openByComponents(root, rel, posix.O_RDONLY, 0); !IsLink(err) {
			posix.Close(fd)
			t.Errorf("%q (leaving the directory): %v, want EXDEV", rel, err)
		}
	}
	if _, err := openByComponents(root, "00/none.bc", posix.O_RDONLY, 0); !IsMissing(err) {
		t.Errorf("a missing file: %v", err)
	}
}
