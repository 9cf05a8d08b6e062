//go:build linux

package fusefs_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"testing"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/fusefs"
)

// A program can mount a bucket itself, for instance to let scripts read what
// it caches. Mounting needs FUSE (/dev/fuse, and root or the fuse3 package's
// fusermount3); without it Mount returns an error wrapping ErrNoFUSE or
// ErrNotPermitted. For that reason go test compiles this example but does
// not run it; TestExampleMount runs it where FUSE is available.
func ExampleMount() {
	dir, _ := os.MkdirTemp("", "weather")
	defer os.RemoveAll(dir)
	b, err := bucket.Open[string, map[string]int](dir, bucket.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	b.Set("oslo", map[string]int{"celsius": -3})

	mnt, _ := os.MkdirTemp("", "mnt")
	defer os.Remove(mnt)
	srv, err := fusefs.Mount(dir, mnt, fusefs.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Unmount()

	names, _ := os.ReadDir(mnt)
	for _, e := range names {
		fmt.Println(e.Name())
	}
	data, _ := os.ReadFile(filepath.Join(mnt, "oslo"))
	fmt.Print(string(data))
	// Prints:
	// oslo
	// {
	//   "celsius": -3
	// }
}

// TestExampleMount runs ExampleMount where FUSE is available, and checks
// what it prints.
func TestExampleMount(t *testing.T) {
	if err := fusefs.CheckFUSE(); err != nil {
		if os.Getenv("BUCKETFS_REQUIRE_FUSE") == "1" {
			t.Fatalf("FUSE required (BUCKETFS_REQUIRE_FUSE=1) but unavailable: %v", err)
		}
		t.Skipf("FUSE unavailable: %v", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	out := make(chan string)
	go func() {
		data, _ := io.ReadAll(r)
		out <- string(data)
	}()
	func() {
		defer func() { os.Stdout = stdout; w.Close() }()
		ExampleMount()
	}()
	want := "oslo\n{\n  \"celsius\": -3\n}\n"
	if got := <-out; got != want {
		t.Errorf("ExampleMount printed\n%s\nwant\n%s", got, want)
	}
}
