//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/fusefs"
	"github.com/bucketcache/bucketcache/internal/canon"
	"github.com/bucketcache/bucketcache/internal/view"
	"github.com/bucketcache/bucketcache/shard"
)

// benchMount mounts dir for the length of one benchmark.
func benchMount(b *testing.B, dir string) string {
	b.Helper()
	requireFUSE(b)
	mnt := b.TempDir()
	srv, err := fusefs.Mount(dir, mnt, fusefs.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if srv.Unmount() != nil {
			srv.UnmountLazy()
		}
	})
	return mnt
}

// BenchmarkCat reads one small JSON entry: through the mount (open, read,
// close), with the bucketfs get command (a process per read), and with
// Bucket.Get in this process, cold (file read and decoded) and warm (from
// memory).
func BenchmarkCat(b *testing.B) {
	dir := b.TempDir()
	type city struct {
		Name    string
		Country string
		Pop     int
		Tags    []string
	}
	bk, err := bucket.Open[string, city](dir, bucket.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer bk.Close()
	value := city{"Paris", "FR", 2102650, []string{"capital", "river", "museums"}}
	if err := bk.Set("paris", value); err != nil {
		b.Fatal(err)
	}
	b.Run("mount", func(b *testing.B) {
		path := filepath.Join(benchMount(b, dir), "paris")
		for b.Loop() {
			if _, err := os.ReadFile(path); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bucketfs-get", func(b *testing.B) {
		for b.Loop() {
			if out, err := exec.Command(binary, "get", dir, "paris").Output(); err != nil || len(out) == 0 {
				b.Fatal(err)
			}
		}
	})
	b.Run("Bucket.Get-cold", func(b *testing.B) {
		for b.Loop() {
			bk.Unload("paris")
			if _, err := bk.Get("paris"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Bucket.Get-warm", func(b *testing.B) {
		for b.Loop() {
			if _, err := bk.Get("paris"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

var (
	tenKOnce sync.Once
	tenKDir  string
	tenKErr  error
)

// tenThousand is a bucket of 10,000 small JSON entries, written straight
// into entry files once per run.
func tenThousand(b *testing.B) string {
	tenKOnce.Do(func() {
		tenKDir, tenKErr = os.MkdirTemp("", "bucketfs-bench-10k-")
		if tenKErr != nil {
			return
		}
		l, err := shard.Open(tenKDir, 0)
		if err != nil {
			tenKErr = err
			return
		}
		for i := 0; i < l.Count(); i++ {
			if tenKErr = os.Mkdir(filepath.Join(tenKDir, l.DirName(i)), 0o755); tenKErr != nil {
				return
			}
		}
		now := time.Now().UnixNano()
		for i := range 10000 {
			key, _ := canon.Marshal(fmt.Sprintf("key-%05d", i))
			buf := shard.Append(nil, "json", now, 0, key, []byte(fmt.Sprintf(`{"n":%d}`, i)))
			if tenKErr = os.WriteFile(filepath.Join(tenKDir, l.EntryPath(shard.Hash(key))), buf, 0o644); tenKErr != nil {
				return
			}
		}
	})
	if tenKErr != nil {
		b.Fatal(tenKErr)
	}
	return tenKDir
}

// BenchmarkList10000 lists a bucket of 10,000 entries: through the mount
// (readdir, names only), with the bucketfs ls command, with package view in
// this process, and with Bucket.Keys (which reads every file in full).
func BenchmarkList10000(b *testing.B) {
	dir := tenThousand(b)
	count := func(b *testing.B, n int) {
		if n != 10000 {
			b.Fatalf("listed %d entries", n)
		}
	}
	b.Run("mount", func(b *testing.B) {
		mnt := benchMount(b, dir)
		for b.Loop() {
			f, err := os.Open(mnt)
			if err != nil {
				b.Fatal(err)
			}
			names, err := f.Readdirnames(-1)
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
			count(b, len(names))
		}
	})
	b.Run("bucketfs-ls", func(b *testing.B) {
		for b.Loop() {
			out, err := exec.Command(binary, "ls", dir).Output()
			if err != nil {
				b.Fatal(err)
			}
			count(b, len(lines(string(out))))
		}
	})
	b.Run("view", func(b *testing.B) {
		d, err := view.Open(dir, view.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer d.Close()
		for b.Loop() {
			n := 0
			for i := 0; i < d.Layout().Count(); i++ {
				es, err := d.Entries(i)
				if err != nil {
					b.Fatal(err)
				}
				n += len(es)
			}
			count(b, n)
		}
	})
	b.Run("Bucket.Keys", func(b *testing.B) {
		bk, err := bucket.Open[string, map[string]int](dir, bucket.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer bk.Close()
		for b.Loop() {
			n := 0
			for range bk.Keys() {
				n++
			}
			count(b, n)
		}
	})
}
