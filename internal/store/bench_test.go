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
//	BenchmarkPutFloor     the floor: create a temp file, write, close, rename
//	BenchmarkPutSyscalls  the system calls a Put makes, in raw form, nothing else
//	BenchmarkPut          Put itself
//
// PutSyscalls/PutFloor is what the design's safety costs in system calls
// (the shard lock, the checks that the shard directory, its lock file and the
// counters file are still the ones their names hold, the version stamp, the
// identity for the memory layer); Put/PutSyscalls is what the Go side adds.
// All three overwrite 1,000 keys of 100 bytes in steady state.

const benchPutKeys = 1000

func benchValue() []byte { return make([]byte, 100) }

func BenchmarkPut(b *testing.B) {
	s, err := Open(b.TempDir(), Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	keys := make([][]byte, benchPutKeys)
	val := benchValue()
	for i := range keys {
		keys[i] = []byte("key-" + strconv.Itoa(i))
		if err := s.Put(keys[i], Record{Codec: "raw", Value: val}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := s.Put(keys[i%len(keys)], Record{Codec: "raw", Value: val}); err != nil {
			b.Fatal(err)
		}
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
	d := newPutDir(b)
	val := benchValue()
	for i := 0; b.Loop(); i++ {
		name := d.names[i%len(d.names)]
		tmp := ".tmp-" + name + "." + strconv.Itoa(i)
		fd, err := unix.Openat(d.dir, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o666)
		if err != nil {
			b.Fatal(err)
		}
		unix.Write(fd, val)
		unix.Close(fd)
		if err := unix.Renameat(d.dir, tmp, d.dir, name); err != nil {
			b.Fatal(err)
		}
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
		unix.Fstatat(d.root, "00", &st, unix.AT_SYMLINK_NOFOLLOW) // the shard directory is still its name's
		unix.Fstat(d.lock, &st)                                   // the lock file still has a name
		unix.Fstat(d.counters, &st)                               // the counters file still has a name
		fd, err := unix.Openat(d.dir, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o666)
		if err != nil {
			b.Fatal(err)
		}
		unix.Write(fd, val)
		futimens(fd, []unix.Timespec{{Sec: 1}, {Sec: 2, Nsec: int64(i % 1e9)}}) // recency, expiry hint and version stamp
		unix.Fstat(fd, &st)                                                     // the identity the memory layer keeps
		unix.Close(fd)
		if err := unix.Renameat(d.dir, tmp, d.dir, name); err != nil {
			b.Fatal(err)
		}
		unix.Flock(d.lock, unix.LOCK_UN)
	}
}
