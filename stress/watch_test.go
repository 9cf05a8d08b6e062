//go:build linux

package stress

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// snapshot records every file and directory under root, except the subtrees
// named in skip: type, permissions, size, modification time and a hash of
// the content. Two equal snapshots mean nothing was created, deleted or
// changed there.
func snapshot(t testing.TB, root string, skip ...string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		for _, s := range skip {
			if path == s {
				snap[path] = "(skipped)"
				return filepath.SkipDir
			}
		}
		fi, err := os.Lstat(path)
		if err != nil {
			return err
		}
		desc := fmt.Sprintf("%v %d %d", fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(path)
			desc += " -> " + target
		case fi.Mode().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			desc += " " + hex.EncodeToString(sum[:8])
		}
		snap[path] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// diffSnapshots reports every difference between two snapshots.
func diffSnapshots(before, after map[string]string) []string {
	var diffs []string
	for p, b := range before {
		a, ok := after[p]
		switch {
		case !ok:
			diffs = append(diffs, "deleted: "+p)
		case a != b:
			diffs = append(diffs, fmt.Sprintf("changed: %s (%s -> %s)", p, b, a))
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			diffs = append(diffs, "created: "+p)
		}
	}
	sort.Strings(diffs)
	return diffs
}

// watcher reports every access (open, read, write, attribute change,
// creation, deletion, rename) to the files of a set of directories, through
// inotify. It sees reads that a snapshot cannot.
type watcher struct {
	fd   int
	dirs map[int]string // by watch descriptor
}

// watchTree watches root and every directory under it, except the subtrees
// named in skip.
func watchTree(t testing.TB, root string, skip ...string) *watcher {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	w := &watcher{fd: fd, dirs: map[int]string{}}
	t.Cleanup(func() { unix.Close(fd) })
	add := func(dir string) {
		wd, err := unix.InotifyAddWatch(fd, dir, unix.IN_ALL_EVENTS|unix.IN_DONT_FOLLOW)
		if err != nil {
			t.Fatalf("inotify watch %s: %v", dir, err)
		}
		w.dirs[wd] = dir
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		for _, s := range skip {
			if path == s {
				return filepath.SkipDir
			}
		}
		if d.IsDir() {
			add(path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	w.events(t, nil) // the walk's own listings
	return w
}

var inotifyNames = []struct {
	mask uint32
	name string
}{
	{unix.IN_ACCESS, "read"}, {unix.IN_MODIFY, "write"}, {unix.IN_ATTRIB, "attrib"},
	{unix.IN_CLOSE_WRITE, "close-write"}, {unix.IN_OPEN, "open"},
	{unix.IN_MOVED_FROM, "moved-from"}, {unix.IN_MOVED_TO, "moved-to"}, {unix.IN_CREATE, "create"},
	{unix.IN_DELETE, "delete"}, {unix.IN_DELETE_SELF, "delete-self"}, {unix.IN_MOVE_SELF, "move-self"},
}

// events returns the events so far, as "op path", leaving out those whose
// path ignore accepts; closes (that follow an open) are left out too.
func (w *watcher) events(t testing.TB, ignore func(path string) bool) []string {
	t.Helper()
	var out []string
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(w.fd, buf)
		if err == unix.EAGAIN {
			return out
		}
		if err != nil {
			t.Fatalf("inotify read: %v", err)
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := strings.TrimRight(string(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)]), "\x00")
			off += unix.SizeofInotifyEvent + int(ev.Len)
			path := w.dirs[int(ev.Wd)]
			if name != "" {
				path = filepath.Join(path, name)
			}
			if ev.Mask&unix.IN_Q_OVERFLOW != 0 {
				out = append(out, "overflow: events lost")
				continue
			}
			if ignore != nil && ignore(path) {
				continue
			}
			for _, m := range inotifyNames {
				if ev.Mask&m.mask != 0 {
					out = append(out, m.name+" "+path)
				}
			}
		}
	}
}
