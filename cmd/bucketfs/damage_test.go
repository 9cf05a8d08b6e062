//go:build linux

package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/fusefs"
	"github.com/bucketcache/bucketcache/internal/canon"
	"github.com/bucketcache/bucketcache/shard"
)

// TestDamageLooksTheSameEverywhere plants each kind of damage in the place
// of entry "k", beside a sound entry "ok", and asks every surface about it.
// The rule (docs/bucketfs.md): a damaged entry is a miss everywhere (Get,
// Contains, Len, All, bucketfs ls, ls -l and get, the mount's readdir and
// lookup); verify reports it, and prune -full (like verify -fix) removes it.
// What is not the format's (a file without the entry magic, a FIFO, a
// directory) is a miss too, reported by verify as foreign, and never
// removed.
func TestDamageLooksTheSameEverywhere(t *testing.T) {
	kinds := []struct {
		name    string
		foreign bool
		plant   func(t *testing.T, path string, sound []byte)
	}{
		{"truncated header", false, func(t *testing.T, p string, b []byte) { write(t, p, b[:30]) }},
		{"truncated body", false, func(t *testing.T, p string, b []byte) { write(t, p, b[:len(b)-1]) }},
		{"body checksum", false, func(t *testing.T, p string, b []byte) { b[len(b)-2] ^= 1; write(t, p, b) }},
		{"wrong key", false, func(t *testing.T, p string, _ []byte) {
			kb, _ := canon.Marshal("another key")
			write(t, p, shard.Append(nil, "json", 1, 0, kb, []byte(`"v"`)))
		}},
		{"declared length larger than the file", false, func(t *testing.T, p string, _ []byte) {
			kb, _ := canon.Marshal("k")
			write(t, p, shard.Append(nil, "json", 1, 0, kb, make([]byte, 1<<20))[:200])
		}},
		{"huge file", true, func(t *testing.T, p string, _ []byte) {
			write(t, p, nil)
			if err := os.Truncate(p, 1<<40); err != nil {
				t.Skipf("no 1 TiB sparse file here: %v", err)
			}
		}},
		{"fifo", true, func(t *testing.T, p string, _ []byte) {
			os.Remove(p)
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"directory", true, func(t *testing.T, p string, _ []byte) {
			os.Remove(p)
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"symlink", false, func(t *testing.T, p string, _ []byte) {
			os.Remove(p)
			if err := os.Symlink(filepath.Join(filepath.Dir(p), "..", shard.MetaName), p); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			dir := t.TempDir()
			b := open[string, string](t, dir, bucket.Options{MemoryLimit: -1})
			must(t, b.Set("ok", "sound"))
			must(t, b.Set("k", "soon damaged"))
			path := entryFile(t, dir, "k")
			sound, err := os.ReadFile(path)
			must(t, err)
			kind.plant(t, path, bytes.Clone(sound))

			// bucketfs ls, ls -l and get.
			if got := lines(bucketfs(t, "ls", dir).stdout); !slices.Equal(got, []string{"ok"}) {
				t.Errorf("ls = %q", got)
			}
			if got := lines(bucketfs(t, "ls", "-l", dir).stdout); len(got) != 1 || !strings.HasSuffix(got[0], " ok") {
				t.Errorf("ls -l = %q", got)
			}
			bucketfs(t, "get", dir, "k").want(t, exitNoEntry, `no live entry named "k"`)

			// The mount's readdir and lookup.
			if err := fusefs.CheckFUSE(); err != nil && os.Getenv("BUCKETFS_REQUIRE_FUSE") == "1" {
				t.Fatalf("FUSE required (BUCKETFS_REQUIRE_FUSE=1) but unavailable: %v", err)
			} else if err == nil {
				mnt := t.TempDir()
				srv, err := fusefs.Mount(dir, mnt, fusefs.Options{})
				must(t, err)
				entries, err := os.ReadDir(mnt)
				must(t, err)
				if len(entries) != 1 || entries[0].Name() != "ok" {
					t.Errorf("mount lists %v", entries)
				}
				if _, err := os.Stat(filepath.Join(mnt, "k")); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("mount: stat k = %v, want ENOENT", err)
				}
				srv.Unmount()
			}

			// verify reports it; what is not the bucket's is no failure.
			r := bucketfs(t, "verify", dir)
			if kind.foreign {
				r.want(t, 0)
				if !strings.Contains(r.stdout, path) || !strings.Contains(r.stdout, "not the bucket's") {
					t.Errorf("verify:\n%s", r.stdout)
				}
			} else {
				r.want(t, 1, "1 damaged entry file remains")
				if !strings.Contains(r.stdout, path) {
					t.Errorf("verify does not name %s:\n%s", path, r.stdout)
				}
			}

			// The library: Len, All, Contains, Get.
			if n, err := b.Len(); n != 1 || err != nil {
				t.Errorf("Len = %d, %v", n, err)
			}
			var keys []string
			for k := range b.All() {
				keys = append(keys, k)
			}
			if !slices.Equal(keys, []string{"ok"}) {
				t.Errorf("All yields %q", keys)
			}
			if ok, err := b.Contains("k"); ok || err != nil {
				t.Errorf("Contains = %v, %v", ok, err)
			}
			if _, err := b.Get("k"); !errors.Is(err, bucket.ErrNotFound) {
				t.Errorf("Get = %v", err)
			}

			// prune -full removes the bucket's damage, never what is not its own.
			if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
				kind.plant(t, path, bytes.Clone(sound)) // Get removed it: plant it again
			}
			bucketfs(t, "prune", "-full", dir).want(t, 0)
			_, err = os.Lstat(path)
			if gone := errors.Is(err, fs.ErrNotExist); gone == kind.foreign {
				t.Errorf("after prune -full: %v (foreign: %v)", err, kind.foreign)
			}
			if v, err := b.Get("ok"); v != "sound" || err != nil {
				t.Errorf("the sound entry after prune -full: %q, %v", v, err)
			}
		})
	}
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
