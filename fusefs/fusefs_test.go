//go:build linux

package fusefs

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bucketcache/bucketcache/bucket"
	"github.com/bucketcache/bucketcache/internal/canon"
	"github.com/bucketcache/bucketcache/internal/view"
	"github.com/bucketcache/bucketcache/shard"
)

type point struct {
	X, Y int
	Tag  string `json:"tag" msgpack:"tag"`
}

func nameOf(t testing.TB, key any) string {
	t.Helper()
	kb, err := canon.Marshal(key)
	must(t, err)
	return view.Name(kb)
}

func TestListCatStat(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: t0}
	js := openBucket[string, point](t, dir, bucket.Options{Now: clk.Now, Lifetime: time.Hour})
	mp := openBucket[string, point](t, dir, bucket.Options{Now: clk.Now, Codec: bucket.MessagePack})
	raw := openBucket[string, []byte](t, dir, bucket.Options{Now: clk.Now, Codec: bucket.Raw})
	gb := openBucket[string, point](t, dir, bucket.Options{Now: clk.Now, Codec: bucket.Gob})
	ints := openBucket[int, string](t, dir, bucket.Options{Now: clk.Now})
	structs := openBucket[point, int](t, dir, bucket.Options{Now: clk.Now})
	must(t, js.Set("json", point{1, 2, "a<b"}))
	must(t, mp.Set("msgpack", point{3, 4, "é"}))
	must(t, raw.Set("raw", []byte("raw\x00bytes\n")))
	must(t, gb.Set("gob", point{5, 6, "g"}))
	must(t, ints.Set(7, "int seven"))
	must(t, ints.Set(-1, "minus one"))
	must(t, raw.Set("7", []byte("string seven")))
	must(t, structs.Set(point{1, 1, "k/ey"}, 42))

	mnt, _ := mountT(t, dir, Options{Now: clk.Now})
	want := []string{"json", "msgpack", "raw", "gob", "=7", "=-1", "7", `={"X":1,"Y":1,"tag":"k%2Fey"}`}
	got := names(t, mnt)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("ls = %q, want %q", got, want)
	}
	gobValue, err := bucket.Gob.Marshal(point{5, 6, "g"})
	must(t, err)
	contents := map[string]string{
		"json":                          "{\n  \"X\": 1,\n  \"Y\": 2,\n  \"tag\": \"a<b\"\n}\n",
		"msgpack":                       "{\n  \"X\": 3,\n  \"Y\": 4,\n  \"tag\": \"é\"\n}\n",
		"raw":                           "raw\x00bytes\n",
		"=7":                            "\"int seven\"\n",
		"7":                             "string seven",
		`={"X":1,"Y":1,"tag":"k%2Fey"}`: "42\n",
	}
	for name, want := range contents {
		path := filepath.Join(mnt, name)
		data, err := os.ReadFile(path)
		if err != nil || string(data) != want {
			t.Errorf("cat %q = %q, %v; want %q", name, data, err, want)
		}
		fi, err := os.Stat(path)
		must(t, err)
		if fi.Size() != int64(len(want)) || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o222 != 0 {
			t.Errorf("stat %q: size %d mode %v; want size %d, read-only", name, fi.Size(), fi.Mode(), len(want))
		}
		if !fi.ModTime().Equal(t0) {
			t.Errorf("stat %q: mtime %v, want the written-at time %v", name, fi.ModTime(), t0)
		}
	}
	data, err := os.ReadFile(filepath.Join(mnt, "gob"))
	if err != nil || !strings.HasPrefix(string(data), "# gob value") || !strings.HasSuffix(string(data), hex.Dump(gobValue)) {
		t.Errorf("cat gob = %q, %v", data, err)
	}
	// Extended attributes.
	path := filepath.Join(mnt, "json")
	xattrs := map[string]string{
		"user.bucketcache.key":        `"json"`,
		"user.bucketcache.codec":      "json",
		"user.bucketcache.written-at": "2025-01-02T03:04:05.0000006Z",
		"user.bucketcache.expires-at": "2025-01-02T04:04:05.0000006Z",
		"user.bucketcache.file":       shardPath(t, dir, `"json"`),
	}
	for name, want := range xattrs {
		buf := make([]byte, 256)
		n, err := unix.Getxattr(path, name, buf)
		if err != nil || string(buf[:n]) != want {
			t.Errorf("getxattr %s = %q, %v; want %q", name, buf[:max(n, 0)], err, want)
		}
	}
	if n, err := unix.Getxattr(path, "user.bucketcache.codec", nil); err != nil || n != 4 {
		t.Errorf("getxattr size query = %d, %v", n, err)
	}
	if _, err := unix.Getxattr(path, "user.bucketcache.key", make([]byte, 2)); err != unix.ERANGE {
		t.Errorf("getxattr into a short buffer: %v, want ERANGE", err)
	}
	if _, err := unix.Getxattr(path, "user.other", make([]byte, 10)); err != unix.ENODATA {
		t.Errorf("getxattr of an unknown attribute: %v, want ENODATA", err)
	}
	buf := make([]byte, 1024)
	n, err := unix.Listxattr(path, buf)
	must(t, err)
	list := strings.Split(strings.TrimSuffix(string(buf[:n]), "\x00"), "\x00")
	if len(list) != len(xattrs) {
		t.Errorf("listxattr = %q", list)
	}
	if ok, _ := unix.Getxattr(filepath.Join(mnt, "=7"), "user.bucketcache.expires-at", buf); string(buf[:ok]) != "never" {
		t.Errorf("expires-at of an entry without expiry = %q", buf[:ok])
	}
	// Missing names, and other spellings of existing ones.
	for _, name := range []string{"nope", "%6Ason", "=\"json\"", "=07"} {
		if _, err := os.Stat(filepath.Join(mnt, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("stat %q: %v, want not found", name, err)
		}
	}
}

func shardPath(t testing.TB, dir string, key string) string {
	l, err := shard.Read(dir)
	must(t, err)
	return l.EntryPath(shard.Hash([]byte(key)))
}

func TestReadAtOffsets(t *testing.T) {
	dir := t.TempDir()
	raw := openBucket[string, []byte](t, dir, bucket.Options{Codec: bucket.Raw})
	value := make([]byte, 3<<20+17)
	for i := range value {
		value[i] = byte(i * 31 >> 3)
	}
	must(t, raw.Set("big", value))
	mnt, _ := mountT(t, dir, Options{})
	f, err := os.Open(filepath.Join(mnt, "big"))
	must(t, err)
	defer f.Close()
	fi, err := f.Stat()
	must(t, err)
	if fi.Size() != int64(len(value)) {
		t.Fatalf("size %d, want %d", fi.Size(), len(value))
	}
	p := make([]byte, 70000)
	for _, off := range []int64{0, 1, 4095, 1 << 20, 2<<20 + 12345, int64(len(value)) - 70000} {
		n, err := f.ReadAt(p, off)
		if n != len(p) || err != nil || !bytes.Equal(p, value[off:off+int64(n)]) {
			t.Fatalf("ReadAt(%d) = %d, %v, or wrong bytes", off, n, err)
		}
	}
	n, err := f.ReadAt(p, int64(len(value))-5)
	if n != 5 || err != io.EOF {
		t.Fatalf("ReadAt at the end = %d, %v", n, err)
	}
	all, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(all, value) {
		t.Fatalf("read all: %d bytes, %v", len(all), err)
	}
}

func TestAwkwardKeys(t *testing.T) {
	dir := t.TempDir()
	b := openBucket[string, string](t, dir, bucket.Options{})
	var every strings.Builder
	for c := 0; c < 256; c++ {
		every.WriteByte(byte(c))
	}
	keys := []string{
		every.String(),
		"a/b/../../c", "\x00", ".", "..", "", "=", "%", "~", "%2F",
		"x~0123456789abcdef", "☃ snow/man\n", strings.Repeat("é/", 200), strings.Repeat("z", 255), strings.Repeat("z", 256),
	}
	for i, k := range keys {
		must(t, b.Set(k, fmt.Sprint(i)))
	}
	ints := openBucket[int, string](t, dir, bucket.Options{})
	must(t, ints.Set(0, "int zero"))

	mnt, _ := mountT(t, dir, Options{})
	listed := names(t, mnt)
	if len(listed) != len(keys)+1 {
		t.Fatalf("listed %d names, want %d: %q", len(listed), len(keys)+1, listed)
	}
	for i, k := range keys {
		name := nameOf(t, k)
		if !slices.Contains(listed, name) {
			t.Errorf("key %q: name %q not listed", k, name)
		}
		data, err := os.ReadFile(filepath.Join(mnt, name))
		if want := fmt.Sprintf("%q\n", fmt.Sprint(i)); err != nil || string(data) != want {
			t.Errorf("key %q (name %q): content %q, %v; want %q", k, name, data, err, want)
		}
	}
	if data, err := os.ReadFile(filepath.Join(mnt, "=0")); err != nil || string(data) != "\"int zero\"\n" {
		t.Errorf("int key: %q, %v", data, err)
	}
}

func TestDynamicChanges(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: t0}
	b := openBucket[string, string](t, dir, bucket.Options{Now: clk.Now})
	must(t, b.Set("stays", "x"))
	mnt, _ := mountT(t, dir, Options{Now: clk.Now})
	path := filepath.Join(mnt, "grows")
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat before the write: %v", err)
	}

	// Added: listed and readable at once (failed lookups are not cached).
	must(t, b.Set("grows", "short"))
	if got := names(t, mnt); !slices.Contains(got, "grows") {
		t.Fatalf("new entry not listed: %q", got)
	}
	data, err := os.ReadFile(path)
	if err != nil || string(data) != "\"short\"\n" {
		t.Fatalf("new entry: %q, %v", data, err)
	}
	old, err := os.Open(path)
	must(t, err)
	defer old.Close()

	// Replaced by a longer value: stat and read show all of it at once; a
	// file opened before keeps its snapshot.
	long := strings.Repeat("much longer now ", 1000)
	must(t, b.Set("grows", long))
	fi, err := os.Stat(path)
	if err != nil || fi.Size() != int64(len(long)+3) {
		t.Fatalf("stat after growth: %v, %v; want size %d", fi, err, len(long)+3)
	}
	data, err = os.ReadFile(path)
	if err != nil || string(data) != "\""+long+"\"\n" {
		t.Fatalf("read after growth: %d bytes, %v; want %d", len(data), err, len(long)+3)
	}
	data, err = io.ReadAll(old)
	if err != nil || string(data) != "\"short\"\n" {
		t.Fatalf("file opened before the growth reads %q, %v", data, err)
	}
	old.Close()

	// Deleted: gone from listings at once, from lookups within the entry
	// timeout; a file still open keeps answering fstat.
	held, err := os.Open(path)
	must(t, err)
	defer held.Close()
	must(t, b.Delete("grows"))
	if got := names(t, mnt); slices.Contains(got, "grows") {
		t.Fatalf("deleted entry still listed: %q", got)
	}
	eventually(t, "deleted entry stat", func() bool {
		_, err := os.Stat(path)
		return errors.Is(err, fs.ErrNotExist)
	})
	if _, err := os.ReadFile(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read of a deleted entry: %v", err)
	}
	if fi, err := held.Stat(); err != nil || fi.Size() != int64(len(long)+3) {
		t.Fatalf("fstat of a file open across the delete: %v, %v", fi, err)
	}
	data, err = io.ReadAll(held)
	if err != nil || len(data) != len(long)+3 {
		t.Fatalf("read of a file open across the delete: %d bytes, %v", len(data), err)
	}

	// Expired: hidden once the clock passes the stored expiry.
	must(t, b.SetWithLifetime("expires", "soon", time.Minute))
	epath := filepath.Join(mnt, "expires")
	if _, err := os.Stat(epath); err != nil {
		t.Fatalf("stat before expiry: %v", err)
	}
	clk.Set(t0.Add(time.Minute))
	if _, err := os.Stat(epath); err != nil {
		t.Fatalf("stat at the expiry instant: %v", err)
	}
	clk.Set(t0.Add(time.Minute + time.Nanosecond))
	if got := names(t, mnt); !slices.Equal(got, []string{"stays"}) {
		t.Fatalf("after expiry, ls = %q", got)
	}
	eventually(t, "expired entry stat", func() bool {
		_, err := os.Stat(epath)
		return errors.Is(err, fs.ErrNotExist)
	})
	if _, err := os.ReadFile(epath); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read of an expired entry: %v", err)
	}
	// The entry file is still there: the mount never deletes.
	if _, err := os.Stat(filepath.Join(dir, shardPath(t, dir, `"expires"`))); err != nil {
		t.Fatalf("the mount touched the expired entry's file: %v", err)
	}
}

func TestWritesFailEROFS(t *testing.T) {
	dir := t.TempDir()
	b := openBucket[string, string](t, dir, bucket.Options{})
	must(t, b.Set("a", "x"))
	must(t, b.Set("b", "y"))
	mnt, _ := mountT(t, dir, Options{})
	a, nw := filepath.Join(mnt, "a"), filepath.Join(mnt, "new")
	openWith := func(path string, flag int) error {
		f, err := os.OpenFile(path, flag, 0o644)
		if err == nil {
			f.Close()
		}
		return err
	}
	ops := map[string]func() error{
		"create":         func() error { return openWith(nw, os.O_CREATE|os.O_WRONLY) },
		"write":          func() error { return openWith(a, os.O_WRONLY) },
		"read-write":     func() error { return openWith(a, os.O_RDWR) },
		"append":         func() error { return openWith(a, os.O_WRONLY|os.O_APPEND) },
		"truncate-open":  func() error { return openWith(a, os.O_RDONLY|os.O_TRUNC) },
		"truncate":       func() error { return os.Truncate(a, 0) },
		"mkdir":          func() error { return os.Mkdir(filepath.Join(mnt, "d"), 0o755) },
		"unlink":         func() error { return os.Remove(a) },
		"rmdir":          func() error { return unix.Rmdir(a) },
		"rename":         func() error { return os.Rename(a, nw) },
		"rename-replace": func() error { return os.Rename(a, filepath.Join(mnt, "b")) },
		"chmod":          func() error { return os.Chmod(a, 0o666) },
		"chown":          func() error { return os.Chown(a, 1, 1) },
		"utimes":         func() error { return os.Chtimes(a, time.Now(), time.Now()) },
		"symlink":        func() error { return os.Symlink("a", nw) },
		"link":           func() error { return os.Link(a, nw) },
		"mknod":          func() error { return unix.Mknod(nw, unix.S_IFIFO|0o644, 0) },
		"setxattr":       func() error { return unix.Setxattr(a, "user.x", []byte("1"), 0) },
		"removexattr":    func() error { return unix.Removexattr(a, "user.bucketcache.codec") },
		"chmod-root":     func() error { return os.Chmod(mnt, 0o777) },
	}
	for name, op := range ops {
		if err := op(); !errors.Is(err, syscall.EROFS) {
			t.Errorf("%s: %v, want EROFS", name, err)
		}
	}
	if got := names(t, mnt); !slices.Equal(got, []string{"a", "b"}) && !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("after the refused writes, ls = %q", got)
	}
	if v, err := b.Get("a"); err != nil || v != "x" {
		t.Errorf("entry a after the refused writes: %q, %v", v, err)
	}
}

func TestTenThousandEntries(t *testing.T) {
	dir := memTempDir(t)
	const n = 10000
	writeEntries(t, dir, n, func(i int) (string, []byte) { return fmt.Sprintf("key-%05d", i), []byte(fmt.Sprint(i)) })
	mnt, _ := mountT(t, dir, Options{})
	got := names(t, mnt)
	if len(got) != n {
		t.Fatalf("listed %d entries, want %d", len(got), n)
	}
	slices.Sort(got)
	for i, name := range got {
		if want := fmt.Sprintf("key-%05d", i); name != want {
			t.Fatalf("entry %d is %q, want %q", i, name, want)
		}
	}
	// rewinddir: a second pass over the same open directory sees them all.
	f, err := os.Open(mnt)
	must(t, err)
	defer f.Close()
	first, err := f.Readdirnames(2500)
	must(t, err)
	_, err = f.Seek(0, io.SeekStart)
	must(t, err)
	again, err := f.Readdirnames(-1)
	must(t, err)
	if len(again) != n || !slices.Equal(again[:len(first)], first) {
		t.Fatalf("after rewinding: %d names (want %d), same start: %v", len(again), n, slices.Equal(again[:min(len(first), len(again))], first))
	}
	data, err := os.ReadFile(filepath.Join(mnt, "key-09999"))
	if err != nil || string(data) != "9999\n" {
		t.Fatalf("cat key-09999 = %q, %v", data, err)
	}
}

func TestSymlinksNeverFollowed(t *testing.T) {
	dir := t.TempDir()
	b := openBucket[string, string](t, dir, bucket.Options{Shards: 2})
	// Two keys in different shards.
	otherKey := "other"
	for i := 0; shardPath(t, dir, fmt.Sprintf("%q", otherKey))[:2] == shardPath(t, dir, `"victim"`)[:2]; i++ {
		otherKey = fmt.Sprint("other", i)
	}
	must(t, b.Set("victim", "inside"))
	must(t, b.Set(otherKey, "inside too"))
	// A valid entry for "victim" outside the bucket.
	outside := t.TempDir()
	ob := openBucket[string, string](t, outside, bucket.Options{Shards: 2})
	must(t, ob.Set("victim", "SECRET"))
	must(t, ob.Set(otherKey, "SECRET"))
	victim := shardPath(t, dir, `"victim"`)
	must(t, os.Remove(filepath.Join(dir, victim)))
	must(t, os.Symlink(filepath.Join(outside, victim), filepath.Join(dir, victim)))
	// The other entry's whole shard directory becomes a symlink.
	other := shardPath(t, dir, fmt.Sprintf("%q", otherKey))
	must(t, os.RemoveAll(filepath.Join(dir, filepath.Dir(other))))
	must(t, os.Symlink(filepath.Join(outside, filepath.Dir(other)), filepath.Join(dir, filepath.Dir(other))))

	mnt, _ := mountT(t, dir, Options{})
	if got := names(t, mnt); len(got) != 0 {
		t.Fatalf("ls shows %q through symlinks", got)
	}
	for _, name := range []string{"victim", otherKey} {
		if data, err := os.ReadFile(filepath.Join(mnt, name)); err == nil {
			t.Fatalf("cat %s through a symlink = %q", name, data)
		}
	}
}

// TestDamagedValueIsHidden: an entry whose value is damaged is absent from
// the mount, listing and lookup alike, whatever its codec: never listed but
// unopenable.
func TestDamagedValueIsHidden(t *testing.T) {
	dir := t.TempDir()
	raw := openBucket[string, []byte](t, dir, bucket.Options{Codec: bucket.Raw})
	must(t, raw.Set("r", []byte("0123456789")))
	js := openBucket[string, string](t, dir, bucket.Options{})
	must(t, js.Set("j", "0123456789"))
	for _, key := range []string{`"r"`, `"j"`} {
		path := filepath.Join(dir, shardPath(t, dir, key))
		data, err := os.ReadFile(path)
		must(t, err)
		data[len(data)-2] ^= 0x20 // the value: the header stays valid
		must(t, os.WriteFile(path, data, 0o644))
	}
	must(t, raw.Set("fine", []byte("sound")))
	mnt, _ := mountT(t, dir, Options{})
	if got := names(t, mnt); !slices.Equal(got, []string{"fine"}) {
		t.Errorf("ls lists %q, want only the sound entry", got)
	}
	for _, name := range []string{"r", "j"} {
		if _, err := os.Stat(filepath.Join(mnt, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("stat of damaged %s: %v, want not found", name, err)
		}
	}
}

func TestUnmountBusyThenLazy(t *testing.T) {
	requireFUSE(t)
	dir := t.TempDir()
	b := openBucket[string, string](t, dir, bucket.Options{})
	must(t, b.Set("k", "v"))
	mnt := t.TempDir()
	srv, err := Mount(dir, mnt, Options{})
	must(t, err)
	f, err := os.Open(filepath.Join(mnt, "k"))
	if err != nil {
		srv.UnmountLazy()
		t.Fatal(err)
	}
	if err := srv.Unmount(); !errors.Is(err, ErrBusy) {
		f.Close()
		srv.UnmountLazy()
		t.Fatalf("Unmount with a file open: %v, want ErrBusy", err)
	}
	must(t, srv.UnmountLazy())
	var st unix.Statfs_t
	must(t, unix.Statfs(mnt, &st))
	if st.Type == unix.FUSE_SUPER_MAGIC {
		t.Errorf("still mounted after UnmountLazy")
	}
	data, err := io.ReadAll(f)
	if err != nil || string(data) != "\"v\"\n" {
		t.Errorf("read of a file held across the lazy unmount: %q, %v", data, err)
	}
	select {
	case <-srv.Done():
		t.Fatalf("server stopped while a file was still open")
	default:
	}
	f.Close()
	select {
	case <-srv.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("server still running 10s after the last file was closed")
	}
}

func TestMountErrors(t *testing.T) {
	bdir := t.TempDir()
	openBucket[string, string](t, bdir, bucket.Options{})
	missing := filepath.Join(t.TempDir(), "missing")
	if _, err := Mount(missing, t.TempDir(), Options{}); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Mount of a missing bucket: %v", err)
	}
	plain := t.TempDir()
	if _, err := Mount(plain, t.TempDir(), Options{}); !errors.Is(err, shard.ErrNotBucket) || !strings.Contains(err.Error(), plain) {
		t.Errorf("Mount of a non-bucket: %v", err)
	}
	if _, err := Mount(bdir, missing, Options{}); !errors.Is(err, ErrMountpoint) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Mount on a missing mountpoint: %v", err)
	}
	file := filepath.Join(plain, "file")
	must(t, os.WriteFile(file, nil, 0o644))
	if _, err := Mount(bdir, file, Options{}); !errors.Is(err, ErrMountpoint) || !strings.Contains(err.Error(), file) {
		t.Errorf("Mount on a file: %v", err)
	}
	if err := checkFUSE(filepath.Join(plain, "no-such-device"), true); !errors.Is(err, ErrNoFUSE) || !strings.Contains(err.Error(), "no-such-device") {
		t.Errorf("checkFUSE of a missing device: %v", err)
	}
	if err := checkFUSE(file, true); !errors.Is(err, ErrNoFUSE) && os.Geteuid() != 0 {
		t.Errorf("checkFUSE of an unopenable device: %v", err)
	}
	// A device that cannot be opened read-write (a directory, for any user)
	// is refused for everyone, whatever fusermount might do.
	for _, root := range []bool{true, false} {
		if err := checkFUSE(plain, root); !errors.Is(err, ErrNoFUSE) || !strings.Contains(err.Error(), plain) {
			t.Errorf("checkFUSE(directory, root=%v) = %v", root, err)
		}
	}
}

// TestNodesRefuseWrites calls the write operations on the nodes directly:
// the kernel refuses them on a read-only mount before they arrive, but the
// nodes refuse them too, whoever mounts them and however.
func TestNodesRefuseWrites(t *testing.T) {
	r := &root{}
	f := &file{root: r}
	ctx := context.Background()
	errs := []syscall.Errno{
		r.Unlink(ctx, "x"), r.Rmdir(ctx, "x"), r.Rename(ctx, "x", nil, "y", 0),
		r.Setattr(ctx, nil, nil, nil), r.Setxattr(ctx, "user.x", nil, 0),
		f.Setattr(ctx, nil, nil, nil), f.Setxattr(ctx, "user.x", nil, 0), f.Removexattr(ctx, "user.x"),
		f.Allocate(ctx, nil, 0, 1, 0),
	}
	_, e1 := r.Mkdir(ctx, "d", 0o755, nil)
	_, e2 := r.Mknod(ctx, "d", 0o644, 0, nil)
	_, e3 := r.Symlink(ctx, "a", "b", nil)
	_, e4 := r.Link(ctx, nil, "b", nil)
	_, _, _, e5 := r.Create(ctx, "c", 0, 0o644, nil)
	_, _, _, e6 := r.Tmpfile(ctx, 0, 0o644, nil)
	_, e7 := f.Write(ctx, nil, []byte("x"), 0)
	_, _, e8 := f.Open(ctx, syscall.O_WRONLY)
	_, _, e9 := f.Open(ctx, syscall.O_RDWR)
	_, _, e10 := f.Open(ctx, syscall.O_RDONLY|syscall.O_TRUNC)
	errs = append(errs, e1, e2, e3, e4, e5, e6, e7, e8, e9, e10)
	for i, err := range errs {
		if err != syscall.EROFS {
			t.Errorf("operation %d: %v, want EROFS", i, err)
		}
	}
}
