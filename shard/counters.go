package shard

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/bucketcache/bucketcache/internal/posix"
)

// CountersName is the name of the file, at a bucket's root, that holds each
// shard's counters, shared by every process on the machine through mmap.
const CountersName = "counters"

// The file starts with a 64-byte header slot; shard i's slot follows at
// (i+1)×64 (one cache line each, so shards never share one).
const (
	slot        = 64
	offEpoch    = 0  // header: random, non-zero; changes when the file is remade or zeroed
	offGen      = 0  // uint64 generation
	offBytes    = 8  // int64 bytes of entry files
	offEntries  = 16 // int64 entry files
	offUsageSet = 24 // uint64: 1 when bytes and entries are exact
)

// recheckEvery is how often a reader checks that the counters file it maps is
// still the one at the bucket's path (writers check on every change).
const recheckEvery = 100 * time.Millisecond

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
// and when the file is remade; whoever holds the lock next recounts it from
// the directory, so it never drifts for long.
//
// Damage to the file is survived. A header epoch, random and checked with
// every load, reveals a file zeroed in place; a fault on a file truncated
// under the mapping is caught instead of killing the process; a file deleted
// or replaced is noticed by writers at once (each time they take a shard
// lock, they check that the mapped file still has a name) and by readers
// within recheckEvery. Each time, the
// file at the path is mapped again (remade if need be) and Remaps grows,
// telling the caller to drop whatever it validated against the old counters.
//
// Counters only see processes on this machine: on a filesystem shared by
// several machines, do not use them.
type Counters struct {
	path    string
	size    int
	m       atomic.Pointer[mapping]
	remaps  atomic.Uint64
	checked atomic.Int64 // monotonic ns of the last check of the path
	mu      sync.Mutex   // serialises remapping
	all     []*mapping   // every mapping made, for Close; guarded by mu
}

// mapping is one mapping of the counters file. Old mappings are never
// unmapped while the Counters is open: a goroutine may still be using one.
type mapping struct {
	mem      []byte
	writable bool
	fd       int // the mapped file, kept open to check cheaply that a name still holds it
	epoch    uint64
}

var clockBase = time.Now()

// Monotonic reads the monotonic clock, in nanoseconds since an arbitrary
// start, as LoadAt takes it: a caller that needs the time anyway reads it
// once for both.
func Monotonic() int64 { return int64(time.Since(clockBase)) }

// OpenCounters maps dir's counters file, creating it if needed. When the file
// cannot be opened for writing (a read-only bucket), it is mapped read-only:
// readers work and writers are refused elsewhere.
func OpenCounters(dir string, l Layout) (*Counters, error) {
	c := &Counters{path: filepath.Join(dir, CountersName), size: (l.count + 1) * slot}
	m, err := c.mapFile()
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", dir, err)
	}
	c.m.Store(m)
	c.all = append(c.all, m)
	c.checked.Store(Monotonic())
	return c, nil
}

// mapFile maps the file at the path, creating or growing it as needed, and
// gives it an epoch if it has none.
func (c *Counters) mapFile() (*mapping, error) {
	// Never through a symlink: a planted one would have every writer
	// scribble on a file outside the bucket.
	writable := true
	f, err := openNoFollow(c.path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil && !errors.Is(err, syscall.ELOOP) {
		writable = false
		f, err = openNoFollow(c.path, os.O_RDONLY, 0)
	}
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link; refusing to follow it", c.path)
	}
	if err != nil {
		return nil, fmt.Errorf("shard counters: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.path, err)
	}
	if st.Size() < int64(c.size) {
		if !writable {
			return nil, fmt.Errorf("%s: too short and not writable", c.path)
		}
		// Growing never clears counters another process already bumped.
		if err := f.Truncate(int64(c.size)); err != nil {
			return nil, fmt.Errorf("%s: %w", c.path, err)
		}
	}
	mem, fd, err := mapShared(f, c.size, writable)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.path, err)
	}
	m := &mapping{mem: mem, writable: writable, fd: fd}
	e := m.word(offEpoch)
	if atomic.LoadUint64(e) == 0 && writable {
		atomic.CompareAndSwapUint64(e, 0, rand.Uint64()|1)
	}
	m.epoch = atomic.LoadUint64(e)
	return m, nil
}

func (m *mapping) word(off int) *uint64 {
	return (*uint64)(unsafe.Pointer(&m.mem[off]))
}

// shardWord is the address of a shard's field.
func (m *mapping) shardWord(i, off int) *uint64 { return m.word((i+1)*slot + off) }

// access runs op on the current mapping, catching the fault of a file
// truncated under it, and checking the epoch; on trouble it remaps and runs
// op again on the new mapping.
func (c *Counters) access(op func(m *mapping)) {
	for try := 0; ; try++ {
		m := c.m.Load()
		if try < 2 && (!c.tryAccess(m, op) || atomic.LoadUint64(m.word(offEpoch)) != m.epoch && c.epochChanged(m)) {
			c.remap(m)
			continue
		}
		return
	}
}

// tryAccess runs op, turning a memory fault into false.
func (c *Counters) tryAccess(m *mapping, op func(m *mapping)) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	op(m)
	return true
}

// epochChanged reads the epoch again under fault protection.
func (c *Counters) epochChanged(m *mapping) bool {
	changed := true
	c.tryAccess(m, func(m *mapping) { changed = atomic.LoadUint64(m.word(offEpoch)) != m.epoch })
	return changed
}

// remap maps the file at the path again, unless another goroutine already
// replaced the mapping old.
func (c *Counters) remap(old *mapping) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m.Load() != old {
		return
	}
	m, err := c.mapFile()
	if err != nil {
		return // keep the old mapping; callers see odd generations on faults
	}
	c.m.Store(m)
	c.all = append(c.all, m)
	c.remaps.Add(1)
}

// CheckPath maps the counters file again if the path no longer names the
// mapped file (it was deleted or replaced). Writers call it once they hold a
// shard's lock, before they change anything, so their changes always reach
// the file that other processes map.
func (c *Counters) CheckPath() { c.checkPath(true) }

// checkPath remaps if the path no longer names the mapped file: with force
// at once, else at most once per recheckEvery (readers). A file that was
// deleted, or replaced by another (a rename over it, or a removal and a new
// file), has no name left: its link count is 0. One that was truncated is
// too short. Either way, fstat of the file kept open tells, without looking
// the path up.
func (c *Counters) checkPath(force bool) { c.checkPathAt(force, Monotonic()) }

// checkPathAt is checkPath at the monotonic time now.
func (c *Counters) checkPathAt(force bool, now int64) {
	if !force && now-c.checked.Load() < int64(recheckEvery) {
		return
	}
	c.checked.Store(now)
	m := c.m.Load()
	var st posix.Stat_t
	if posix.Fstat(m.fd, &st) != nil || st.Nlink == 0 || st.Size < int64(c.size) {
		c.remap(m)
	}
}

// Remaps counts how often the counters were mapped again after damage.
// Whoever keeps copies validated by generations drops them when it changes.
func (c *Counters) Remaps() uint64 { return c.remaps.Load() }

// Load returns shard i's generation.
func (c *Counters) Load(i int) uint64 { return c.LoadAt(i, Monotonic()) }

// LoadAt is Load for a caller that read Monotonic at now.
func (c *Counters) LoadAt(i int, now int64) uint64 {
	c.checkPathAt(false, now)
	var g uint64
	c.access(func(m *mapping) { g = atomic.LoadUint64(m.shardWord(i, offGen)) })
	return g
}

// Stable reports whether a generation value read by Load allows a reader to
// keep what it reads next in memory: no change was under way.
func Stable(gen uint64) bool { return gen&1 == 0 }

// Begin marks the start of a change to shard i. The caller holds the shard's
// exclusive lock (and called CheckPath since taking it). A generation left odd by a writer that died is repaired,
// and the shard's usage, which that writer may have left wrong, is marked
// unknown.
func (c *Counters) Begin(i int) {
	c.access(func(m *mapping) {
		if !m.writable {
			return
		}
		g := m.shardWord(i, offGen)
		if atomic.LoadUint64(g)&1 == 1 {
			atomic.AddUint64(g, 1)
			atomic.StoreUint64(m.shardWord(i, offUsageSet), 0)
		}
		atomic.AddUint64(g, 1)
	})
}

// End marks the end of a change to shard i and returns the new, even,
// generation.
func (c *Counters) End(i int) uint64 {
	var g uint64
	c.access(func(m *mapping) {
		if !m.writable {
			g = atomic.LoadUint64(m.shardWord(i, offGen))
			return
		}
		g = atomic.AddUint64(m.shardWord(i, offGen), 1)
		if g&1 == 1 { // the file was remade mid-change: leave it even
			g = atomic.AddUint64(m.shardWord(i, offGen), 1)
		}
	})
	return g
}

// Usage returns shard i's bytes and entries, and whether they are known.
func (c *Counters) Usage(i int) (bytes, entries int64, known bool) {
	c.access(func(m *mapping) {
		known = atomic.LoadUint64(m.shardWord(i, offUsageSet)) == 1
		bytes = int64(atomic.LoadUint64(m.shardWord(i, offBytes)))
		entries = int64(atomic.LoadUint64(m.shardWord(i, offEntries)))
	})
	return bytes, entries, known
}

// TotalUsage sums the usage of shards 0 to n-1, in one pass, and reports
// whether every one of them is known.
func (c *Counters) TotalUsage(n int) (bytes, entries int64, known bool) {
	c.access(func(m *mapping) {
		bytes, entries, known = 0, 0, true
		for i := 0; i < n; i++ {
			if atomic.LoadUint64(m.shardWord(i, offUsageSet)) != 1 {
				known = false
				continue
			}
			bytes += int64(atomic.LoadUint64(m.shardWord(i, offBytes)))
			entries += int64(atomic.LoadUint64(m.shardWord(i, offEntries)))
		}
	})
	return bytes, entries, known
}

// AddUsage adds to shard i's usage. The caller holds the shard's lock.
func (c *Counters) AddUsage(i int, bytes, entries int64) {
	c.access(func(m *mapping) {
		if m.writable {
			atomic.AddUint64(m.shardWord(i, offBytes), uint64(bytes))
			atomic.AddUint64(m.shardWord(i, offEntries), uint64(entries))
		}
	})
}

// SetUsage records shard i's usage, counted from its directory, as known.
// The caller holds the shard's lock.
func (c *Counters) SetUsage(i int, bytes, entries int64) {
	c.access(func(m *mapping) {
		if m.writable {
			atomic.StoreUint64(m.shardWord(i, offBytes), uint64(bytes))
			atomic.StoreUint64(m.shardWord(i, offEntries), uint64(entries))
			atomic.StoreUint64(m.shardWord(i, offUsageSet), 1)
		}
	})
}

// Forget marks shard i's usage unknown, for a writer that does not count.
func (c *Counters) Forget(i int) {
	c.access(func(m *mapping) {
		if m.writable && atomic.LoadUint64(m.shardWord(i, offUsageSet)) != 0 {
			atomic.StoreUint64(m.shardWord(i, offUsageSet), 0)
		}
	})
}

// createCounters writes the counters file of a new bucket of n shards, every
// shard's usage known to be zero, unless one exists already.
func createCounters(dir string, n int) error {
	f, err := openNoFollow(filepath.Join(dir, CountersName), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	buf := make([]byte, (n+1)*slot)
	for i := 0; i < n; i++ {
		buf[(i+1)*slot+offUsageSet] = 1
	}
	_, err = f.Write(buf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close unmaps the counters and closes their file.
func (c *Counters) Close() error {
	if c.m.Swap(nil) == nil {
		return errors.New("counters: already closed")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	for _, m := range c.all {
		if e := unmap(m.mem); e != nil && err == nil {
			err = e
		}
		posix.Close(m.fd)
	}
	c.all = nil
	return err
}
