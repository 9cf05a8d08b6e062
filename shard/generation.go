package shard

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// GenerationsName is the name of the file, at a bucket's root, that holds one
// generation counter per shard, shared by every process through mmap.
const GenerationsName = "generations"

const slot = 64 // bytes per counter: one cache line each, so shards never share one

// Generations is a set of per-shard counters in a file mapped into memory
// with MAP_SHARED, so that every process on the machine sees every update at
// once, without a system call.
//
// The counters work as sequence locks. A writer holding a shard's exclusive
// lock calls Begin before it renames or removes an entry file and End after:
// the counter is odd while a change may be under way. A reader loads the
// counter before it reads an entry file; a copy it keeps in memory stays valid
// while the counter is unchanged and even. A writer that dies between Begin
// and End leaves the counter odd, which only makes readers go to disk until
// the next writer of that shard repairs it.
//
// Counters only see processes on this machine: on a filesystem shared by
// several machines, do not use them (see bucket.Options.SharedFilesystem).
type Generations struct {
	mem      []byte
	writable bool
}

// OpenGenerations maps dir's generations file, creating it if needed. When
// the file cannot be opened for writing (a read-only bucket), it is mapped
// read-only: readers work and writers are refused elsewhere.
func OpenGenerations(dir string, l Layout) (*Generations, error) {
	path := filepath.Join(dir, GenerationsName)
	size := int64(l.count * slot)
	writable := true
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		writable = false
		f, err = os.Open(path)
	}
	if err != nil {
		return nil, fmt.Errorf("bucket %s: generation counters: %w", dir, err)
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
	return &Generations{mem: mem, writable: writable}, nil
}

func (g *Generations) counter(i int) *uint64 {
	return (*uint64)(unsafe.Pointer(&g.mem[i*slot]))
}

// Load returns shard i's counter.
func (g *Generations) Load(i int) uint64 { return atomic.LoadUint64(g.counter(i)) }

// Stable reports whether a generation value read by Load allows a reader to
// keep what it reads next in memory: no change was under way.
func Stable(gen uint64) bool { return gen&1 == 0 }

// Begin marks the start of a change to shard i. The caller holds the shard's
// exclusive lock. It repairs a counter left odd by a writer that died.
func (g *Generations) Begin(i int) {
	if !g.writable {
		return
	}
	c := g.counter(i)
	if atomic.LoadUint64(c)&1 == 1 {
		atomic.AddUint64(c, 1)
	}
	atomic.AddUint64(c, 1)
}

// End marks the end of a change to shard i and returns the new, even, value.
func (g *Generations) End(i int) uint64 {
	if !g.writable {
		return g.Load(i)
	}
	return atomic.AddUint64(g.counter(i), 1)
}

// Close unmaps the counters.
func (g *Generations) Close() error {
	if g.mem == nil {
		return errors.New("generations: already closed")
	}
	err := unix.Munmap(g.mem)
	g.mem = nil
	return err
}
