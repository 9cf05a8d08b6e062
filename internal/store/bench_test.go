//go:build unix

package store

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bucketcache/bucketcache/shard"
)

// Where a Put's time goes, on the file system under TMPDIR:
//
//	BenchmarkPutFloor     the floor: create a temp file, write the same bytes, close, rename
//	BenchmarkPutSyscalls  the system calls a Put makes, in raw form, nothing else
//	BenchmarkPut          Put itself
//
// PutSyscalls/PutFloor is what the design's safety costs in system calls
// (the shard lock, the checks that the lock file and the counters file are
// still the ones their paths lead to, the times that carry the expiry hint
// and the version stamp); Put/PutSyscalls is what the Go side adds. All
// three overwrite 1,000 keys in steady state; Put and PutFloor at 100 B and
// at 4 KiB, PutSyscalls at 100 B.

const benchPutKeys = 1000

// benchSizes are the value sizes the Put and Get benchmarks run at, each a
// sub-benchmark: compare Put/100B with PutFloor/100B, and so on.
var benchSizes = []struct {
	name string
	n    int
}{{"100B", 100}, {"4KiB", 4 << 10}}

func benchValue() []byte { return make([]byte, 100) }

func benchKeys() [][]byte {
	keys := make([][]byte, benchPutKeys)
	for i := range keys {
		keys[i] = []byte("key-" + strconv.Itoa(i))
	}
	return keys
}

// filledStore opens a Store in a new directory and writes the benchmark
// keys into it, each with a value of n bytes. It is closed when b ends.
func filledStore(b *testing.B, cfg Config, n int) (*Store, [][]byte, []byte) {
	s, err := Open(b.TempDir(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	keys := benchKeys()
	val := make([]byte, n)
	for _, k := range keys {
		if err := s.Put(k, Record{Codec: "raw", Value: val}); err != nil {
			b.Fatal(err)
		}
	}
	return s, keys, val
}

func BenchmarkPut(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			s, keys, val := filledStore(b, Config{}, size.n)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := s.Put(keys[i%len(keys)], Record{Codec: "raw", Value: val}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGetCold reads entries of a Store with no memory layer: open,
// stat, read and verify, close.
func BenchmarkGetCold(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			s, keys, _ := filledStore(b, Config{MemoryLimit: -1}, size.n)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if rec, err := s.Get(keys[i%len(keys)]); err != nil || len(rec.Value) != size.n {
					b.Fatal(len(rec.Value), err)
				}
			}
		})
	}
}

// BenchmarkGetColdFloor is GetCold's floor: open the same files by their
// path beneath the bucket, stat, read each whole into a fresh slice, close.
func BenchmarkGetColdFloor(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			s, keys, _ := filledStore(b, Config{MemoryLimit: -1}, size.n)
			paths := make([]string, len(keys))
			for j, k := range keys {
				paths[j] = s.layout.EntryPath(shard.Hash(k))
			}
			root, err := unix.Open(s.Dir(), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer unix.Close(root)
			b.ReportAllocs()
			var st unix.Stat_t
			for i := 0; b.Loop(); i++ {
				fd, err := unix.Openat(root, paths[i%len(paths)], unix.O_RDONLY|unix.O_CLOEXEC, 0)
				if err != nil {
					b.Fatal(err)
				}
				unix.Fstat(fd, &st)
				buf := make([]byte, st.Size)
				if n, err := unix.Read(fd, buf); err != nil || n != len(buf) {
					b.Fatal(n, err)
				}
				unix.Close(fd)
			}
		})
	}
}

// putDir is a directory like a shard's, with a lock file and a counters
// file beside it, for the raw benchmarks.
type putDir struct {
	root, dir, lock, counters int
	names                     []string
}

func newPutDir(b *testing.B) *putDir {
	base := b.TempDir()
	if err := os.Mkdir(filepath.Join(base, "00"), 0o777); err != nil {
		b.Fatal(err)
	}
	open := func(path string, flags int) int {
		fd, err := unix.Open(path, flags|unix.O_CLOEXEC, 0o666)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { unix.Close(fd) })
		return fd
	}
	d := &putDir{
		root:     open(base, unix.O_RDONLY|unix.O_DIRECTORY),
		dir:      open(filepath.Join(base, "00"), unix.O_RDONLY|unix.O_DIRECTORY),
		lock:     open(filepath.Join(base, "00", shard.LockName), unix.O_RDONLY|unix.O_CREAT),
		counters: open(filepath.Join(base, shard.CountersName), unix.O_RDWR|unix.O_CREAT),
	}
	for i := 0; i < benchPutKeys; i++ {
		d.names = append(d.names, shard.EntryName(shard.Hash([]byte("key-"+strconv.Itoa(i)))))
	}
	return d
}

func BenchmarkPutFloor(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			d := newPutDir(b)
			// The same bytes as Put's entry files (the value after a
			// header and the key), encoded beforehand.
			files := make([][]byte, len(d.names))
			for j := range files {
				files[j] = shard.Append(nil, "raw", 1, 0, []byte("key-"+strconv.Itoa(j)), make([]byte, size.n))
			}
			for i := 0; b.Loop(); i++ {
				name := d.names[i%len(d.names)]
				tmp := ".tmp-" + name + "." + strconv.Itoa(i)
				fd, err := unix.Openat(d.dir, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o666)
				if err != nil {
					b.Fatal(err)
				}
				unix.Write(fd, files[i%len(files)])
				unix.Close(fd)
				if err := unix.Renameat(d.dir, tmp, d.dir, name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPutSyscalls(b *testing.B) {
	d := newPutDir(b)
	val := benchValue()
	var st unix.Stat_t
	for i := 0; b.Loop(); i++ {
		name := d.names[i%len(d.names)]
		tmp := ".tmp-" + name + "." + strconv.Itoa(i)
		unix.Flock(d.lock, unix.LOCK_EX|unix.LOCK_NB)
		unix.Fstatat(d.root, "00/"+shard.LockName, &st, unix.AT_SYMLINK_NOFOLLOW) // the lock file's path still leads to it
		unix.Fstat(d.counters, &st)                                               // the counters file still has a name
		fd, err := unix.Openat(d.dir, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o666)
		if err != nil {
			b.Fatal(err)
		}
		unix.Write(fd, val)
		futimens(fd, []unix.Timespec{{Sec: 1}, {Sec: 2, Nsec: int64(i % 1e9)}}) // recency, expiry hint and version stamp
		unix.Close(fd)
		if err := unix.Renameat(d.dir, tmp, d.dir, name); err != nil {
			b.Fatal(err)
		}
		unix.Flock(d.lock, unix.LOCK_UN)
	}
}
