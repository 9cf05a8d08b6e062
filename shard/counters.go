package shard

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// CountersName is the name of the file, at a bucket's root, that holds each
// shard's counters, shared by every process on the machine through mmap.
const CountersName = "counters"

// Each shard has a 64-byte slot (one cache line, so shards never share one):
const (
	slot        = 64
	offGen      = 0  // uint64 generation
	offBytes    = 8  // int64 bytes of entry files
	offEntries  = 16 // int64 entry files
	offUsageSet = 24 // uint64: 1 when bytes and entries are exact
)

// Counters is a set of per-shard counters in a file mapped into memory with
// MAP_SHARED, so that every process on the machine sees every update at once,
// without a system call.
//
// The generation works as a sequence lock. A writer holding a shard's
// exclusive lock calls Begin before it renames or removes an entry file and
// End after: the generation is odd while a change may be under way. A reader
// loads the generation before it reads an entry file; a copy it keeps in
// memory stays valid while the generation is unchanged and even. A writer that
// dies between Begin and End leaves it odd, which only makes readers go to
// disk until the next writer of that shard repairs it.
//
// The usage (bytes and entries of the shard's entry files) is kept by writers
// under the shard's lock. It is marked unknown when a writer died mid-change
// and in a new counters file; whoever holds the lock next recounts it from the
// directory, so it never drifts for long.
//
// Counters only see processes on this machine: on a filesystem shared by
// several machines, do not use them.
type Counters struct {
	mem      []byte
	writable bool
}

// OpenCounters maps dir's counters file, creating it if needed. When the file
// cannot be opened for writing (a read-only bucket), it is mapped read-only:
// readers work and writers are refused elsewhere.
func OpenCounters(dir string, l Layout) (*Counters, error) {
	path := filepath.Join(dir, CountersName)
	size := int64(l.count * slot)
	writable := true
	// Never through a symlink: a planted one would have every writer
	// scribble on a file outside the bucket.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o666)
	if err != nil && !errors.Is(err, syscall.ELOOP) {
		writable = false
		f, err = os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	}
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("bucket %s: %s is a symbolic link; refusing to follow it", dir, path)
	}
	if err != nil {
		return nil, fmt.Errorf("bucket %s: shard counters: %w", dir, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if fi.Size() < size {
		if !writable {
			return nil, fmt.Errorf("%s: too short and not writable", path)
		}
		// Growing never clears counters another process already bumped.
		if err := f.Truncate(size); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	prot := unix.PROT_READ
	if writable {
		prot |= unix.PROT_WRITE
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, int(size), prot, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%s: mmap: %w", path, err)
	}
	return &Counters{mem: mem, writable: writable}, nil
}

// createCounters writes the counters file of a new bucket of n shards, every
// shard's usage known to be zero, unless one exists already.
func createCounters(dir string, n int) error {
	f, err := os.OpenFile(filepath.Join(dir, CountersName), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	buf := make([]byte, n*slot)
	for i := 0; i < n; i++ {
		buf[i*slot+offUsageSet] = 1
	}
	_, err = f.Write(buf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (c *Counters) word(i, off int) *uint64 {
	return (*uint64)(unsafe.Pointer(&c.mem[i*slot+off]))
}

// Load returns shard i's generation.
func (c *Counters) Load(i int) uint64 { return atomic.LoadUint64(c.word(i, offGen)) }

// Stable reports whether a generation value read by Load allows a reader to
// keep what it reads next in memory: no change was under way.
func Stable(gen uint64) bool { return gen&1 == 0 }

// Begin marks the start of a change to shard i. The caller holds the shard's
// exclusive lock. A generation left odd by a writer that died is repaired,
// and the shard's usage, which that writer may have left wrong, is marked
// unknown.
func (c *Counters) Begin(i int) {
	if !c.writable {
		return
	}
	g := c.word(i, offGen)
	if atomic.LoadUint64(g)&1 == 1 {
		atomic.AddUint64(g, 1)
		atomic.StoreUint64(c.word(i, offUsageSet), 0)
	}
	atomic.AddUint64(g, 1)
}

// End marks the end of a change to shard i and returns the new, even,
// generation.
func (c *Counters) End(i int) uint64 {
	if !c.writable {
		return c.Load(i)
	}
	return atomic.AddUint64(c.word(i, offGen), 1)
}

// Usage returns shard i's bytes and entries, and whether they are known.
func (c *Counters) Usage(i int) (bytes, entries int64, known bool) {
	known = atomic.LoadUint64(c.word(i, offUsageSet)) == 1
	bytes = int64(atomic.LoadUint64(c.word(i, offBytes)))
	entries = int64(atomic.LoadUint64(c.word(i, offEntries)))
	return bytes, entries, known
}

// AddUsage adds to shard i's usage. The caller holds the shard's lock.
func (c *Counters) AddUsage(i int, bytes, entries int64) {
	if !c.writable {
		return
	}
	atomic.AddUint64(c.word(i, offBytes), uint64(bytes))
	atomic.AddUint64(c.word(i, offEntries), uint64(entries))
}

// SetUsage records shard i's usage, counted from its directory, as known.
// The caller holds the shard's lock.
func (c *Counters) SetUsage(i int, bytes, entries int64) {
	if !c.writable {
		return
	}
	atomic.StoreUint64(c.word(i, offBytes), uint64(bytes))
	atomic.StoreUint64(c.word(i, offEntries), uint64(entries))
	atomic.StoreUint64(c.word(i, offUsageSet), 1)
}

// Forget marks shard i's usage unknown, for a writer that does not count.
func (c *Counters) Forget(i int) {
	if c.writable && atomic.LoadUint64(c.word(i, offUsageSet)) != 0 {
		atomic.StoreUint64(c.word(i, offUsageSet), 0)
	}
}

// Close unmaps the counters.
func (c *Counters) Close() error {
	if c.mem == nil {
		return errors.New("counters: already closed")
	}
	err := unix.Munmap(c.mem)
	c.mem = nil
	return err
}
