package store

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bucketcache/bucketcache/internal/posix"
	"github.com/bucketcache/bucketcache/lock"
	"github.com/bucketcache/bucketcache/shard"
)

// Eviction keeps a bucket under Config.MaxBytes and MaxEntries.
//
// Usage is counted in the shared counters by every writer (see
// shard.Counters), so checking it after a write costs one atomic load per
// shard and no system call. When a limit is exceeded, a goroutine of the
// writing process trims the bucket in the background, so writes never wait
// for a trim. At most one trim runs at a time across all processes (an
// exclusive flock on TrimLockName), and trims are at least TrimInterval
// apart (the modification time of TrimStampName records the last one).
//
// A trim evicts the least recently used entries until usage is under 90% of
// each limit. Recency is a file's access or modification time, whichever is
// later: a write sets both, and readers stamp the access time at most once per
// EvictionGrace (a warm read with nothing due makes no system call). A trim
// never evicts an entry last stamped less than 2×EvictionGrace ago, so
// anything read or written within EvictionGrace survives, nor an entry whose
// key has a per-key lock file (a memoized computation under way). It removes
// each victim under its shard's lock after checking again that it is the
// same file and still idle, so a deferred Sync or a Set racing the trim wins.

// TrimLockName is the lock file, at the bucket's root, held by the process
// that is trimming.
const TrimLockName = "trim.lock"

// TrimStampName is the file, at the bucket's root, whose modification time
// is when the last trim started.
const TrimStampName = "trim.stamp"

// lowWater is the fraction of a limit that a trim brings usage down to.
const lowWater = 0.9

// TrimInfo reports what a trim did.
type TrimInfo struct {
	Evicted   int   // entries removed
	Bytes     int64 // their size
	Protected int   // candidates spared: used within the grace period, or being computed
	Before    Usage // usage when the trim started
	After     Usage // usage when it ended
}

// trimmer runs trims in the background for one Store.
type trimmer struct {
	s    *Store
	lock *lock.Mutex
	kick chan struct{}
	quit chan struct{}
	done sync.WaitGroup

	lastPoke atomic.Int64 // Unix ns, real time: the last poke that looked at the usage
	missed   atomic.Bool  // a poke came too soon after the last one to look
}

func startTrimmer(s *Store) *trimmer {
	t := &trimmer{
		s:    s,
		lock: lock.New(filepath.Join(s.dir, TrimLockName)),
		kick: make(chan struct{}, 1),
		quit: make(chan struct{}),
	}
	t.done.Add(1)
	go t.loop()
	return t
}

// poke asks for a trim if usage is over a limit. It never blocks. Without
// shared counters (a shared filesystem) usage is unknown until a trim scans
// the directory, so it asks at most once per TrimInterval.
func (t *trimmer) poke() {
	if t.s.ctrs == nil {
		now := time.Now().UnixNano()
		last := t.lastPoke.Load()
		if now-last < int64(t.s.opts.TrimInterval) || !t.lastPoke.CompareAndSwap(last, now) {
			return
		}
	} else {
		// Summing every shard's usage is cheap, but not free: at most
		// once a millisecond.
		now := time.Now().UnixNano()
		last := t.lastPoke.Load()
		if now-last < int64(time.Millisecond) || !t.lastPoke.CompareAndSwap(last, now) {
			// Too soon to look: the trimmer looks a millisecond from now,
			// so that the last write of a burst is never left unchecked.
			if t.missed.Swap(true) {
				return // already woken for it
			}
		} else if !t.s.overLimit() {
			return
		}
	}
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

func (t *trimmer) stop() {
	close(t.quit)
	t.done.Wait()
}

func (t *trimmer) loop() {
	defer t.done.Done()
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	for {
		select {
		case <-t.quit:
			return
		case <-t.kick:
		case <-retry.C:
		}
		if t.missed.Swap(false) {
			retry.Reset(time.Millisecond) // look again once the poke could have
		}
		if t.s.ctrs != nil && !t.s.overLimit() {
			continue
		}
		ok, err := t.lock.TryLock()
		if err != nil || !ok {
			retry.Reset(t.s.opts.TrimInterval) // another process is trimming
			continue
		}
		if wait := t.s.trimDue(); wait > 0 {
			t.lock.Unlock()
			retry.Reset(wait)
			continue
		}
		t.s.trimLocked(context.Background())
		t.lock.Unlock()
	}
}

// Trim evicts least recently used entries now, whatever the time since the
// last trim, if usage is over a limit. It waits while another process trims.
func (s *Store) Trim(ctx context.Context) (TrimInfo, error) {
	if err := s.checkOpen(); err != nil {
		return TrimInfo{}, err
	}
	m := lock.New(filepath.Join(s.dir, TrimLockName))
	if s.trimmer != nil {
		m = s.trimmer.lock
	}
	if err := m.Lock(ctx); err != nil {
		return TrimInfo{}, err
	}
	defer m.Unlock()
	return s.trimLocked(ctx)
}

// overLimit reports whether the counted usage exceeds a limit.
func (s *Store) overLimit() bool {
	u := s.Usage()
	return (s.opts.MaxBytes > 0 && u.Bytes > s.opts.MaxBytes) ||
		(s.opts.MaxEntries > 0 && u.Entries > s.opts.MaxEntries)
}

// trimDue returns how long until a trim may run, by the stamp of the last.
func (s *Store) trimDue() time.Duration {
	var st posix.Stat_t
	if posix.Fstatat(s.root, TrimStampName, &st, posix.AT_SYMLINK_NOFOLLOW) != nil {
		return 0
	}
	since := s.opts.Now().Sub(time.Unix(0, st.Mtim.Nano()))
	if since < 0 || since >= s.opts.TrimInterval {
		return 0
	}
	return s.opts.TrimInterval - since
}

// candidate is an entry a trim may evict.
type candidate struct {
	shard int
	name  string
	ino   uint64
	size  int64
	used  int64 // Unix ns
}

// newestFirst is a heap of candidates whose top is the most recently used,
// so the oldest ones are what remains.
type newestFirst []candidate

func (h newestFirst) Len() int           { return len(h) }
func (h newestFirst) Less(i, j int) bool { return h[i].used > h[j].used }
func (h newestFirst) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *newestFirst) Push(x any)        { *h = append(*h, x.(candidate)) }
func (h *newestFirst) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// trimLocked runs one trim; the caller holds the trim lock.
// When ctx ends it stops between shards and returns ctx.Err(), wrapped:
// every shard it touched is consistent, and what it evicted is counted.
func (s *Store) trimLocked(ctx context.Context) (TrimInfo, error) {
	var info TrimInfo
	now := s.opts.Now()
	if fd, err := posix.Openat(s.root, TrimStampName, posix.O_WRONLY|posix.O_CREAT|posix.O_NOFOLLOW|posix.O_CLOEXEC, 0o666); err == nil {
		futimens(fd, []posix.Timespec{posix.NsecToTimespec(now.UnixNano()), posix.NsecToTimespec(now.UnixNano())})
		posix.Close(fd)
	}
	s.recountUnknown(ctx)
	info.Before = s.Usage()
	if s.ctrs == nil {
		info.Before = s.scanUsage()
	}
	excessBytes, excessEntries := int64(0), int64(0)
	if s.opts.MaxBytes > 0 && info.Before.Bytes > s.opts.MaxBytes {
		excessBytes = info.Before.Bytes - int64(float64(s.opts.MaxBytes)*lowWater)
	}
	if s.opts.MaxEntries > 0 && info.Before.Entries > s.opts.MaxEntries {
		excessEntries = info.Before.Entries - int64(float64(s.opts.MaxEntries)*lowWater)
	}
	if excessBytes <= 0 && excessEntries <= 0 {
		info.After = info.Before
		return info, nil
	}
	victims, protected := s.chooseVictims(now, excessBytes, excessEntries)
	info.Protected = protected
	var errs []error
	for len(victims) > 0 {
		i := victims[0].shard
		n := 1
		for n < len(victims) && victims[n].shard == i {
			n++
		}
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("store: trim stopped: %w", err))
			break
		}
		evicted, bytes, spared, err := s.evictShard(ctx, i, victims[:n], now)
		info.Evicted += evicted
		info.Bytes += bytes
		info.Protected += spared
		if err != nil {
			errs = append(errs, err)
		}
		victims = victims[n:]
	}
	s.stats.evictions.Add(int64(info.Evicted))
	info.After = s.Usage()
	if s.ctrs == nil {
		info.After = s.scanUsage()
	}
	return info, errors.Join(errs...)
}

// scanUsage counts the bucket's entry files from the directories, for
// buckets without shared counters.
func (s *Store) scanUsage() Usage {
	u := Usage{Known: true, MaxBytes: s.opts.MaxBytes, MaxEntries: s.opts.MaxEntries}
	s.walkShards(func(_, dirfd int, names []string) bool {
		for _, name := range names {
			if _, ok := shard.ParseEntryName(name); ok {
				if size, ok := sizeAt(dirfd, name); ok {
					u.Bytes += size
					u.Entries++
				}
			}
		}
		return true
	})
	return u
}

// recountUnknown recounts every shard whose usage is unknown, or whose
// generation is odd (a change under way, or a writer that died mid-change:
// under the lock it is one or the other).
func (s *Store) recountUnknown(ctx context.Context) {
	if s.ctrs == nil {
		return
	}
	for i := 0; i < s.layout.Count(); i++ {
		_, _, known := s.ctrs.Usage(i)
		if known && shard.Stable(s.ctrs.Load(i)) || !s.shardExists(i) {
			continue
		}
		dirfd, unlock, err := s.lockShard(ctx, i)
		if err != nil {
			continue
		}
		if !shard.Stable(s.ctrs.Load(i)) { // its writer died: repair
			s.beginChange(i)
			s.endChange(i)
		}
		s.recountLocked(i, dirfd)
		unlock()
	}
}

func (s *Store) shardExists(i int) bool {
	fd, err := s.openShardDir(i, false)
	if err != nil {
		return false
	}
	posix.Close(fd)
	return true
}

// chooseVictims scans every shard, without locks, for the least recently
// used idle entries that together cover the excess. It keeps only as many
// candidates as needed, so its memory is bounded by the excess, not by the
// size of the bucket. Victims come sorted by shard.
func (s *Store) chooseVictims(now time.Time, excessBytes, excessEntries int64) ([]candidate, int) {
	idleBefore := now.UnixNano() - 2*int64(s.opts.EvictionGrace)
	var h newestFirst
	var heldBytes int64
	protected := 0
	s.walkShards(func(i, dirfd int, names []string) bool {
		busy := make(map[string]bool)
		for _, name := range names {
			if base, ok := strings.CutSuffix(name, shard.KeyLockSuffix); ok {
				busy[base+shard.EntrySuffix] = true
			}
		}
		for _, name := range names {
			if _, ok := shard.ParseEntryName(name); !ok {
				continue
			}
			var st posix.Stat_t
			if posix.Fstatat(dirfd, name, &st, posix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&posix.S_IFMT != posix.S_IFREG {
				continue
			}
			c := candidate{shard: i, name: name, ino: st.Ino, size: st.Size, used: recency(&st)}
			if c.used > idleBefore || busy[name] {
				protected++
				continue
			}
			heap.Push(&h, c)
			heldBytes += c.size
			// Drop the newest while the rest still cover the excess.
			for h.Len() > 0 && heldBytes-h[0].size >= excessBytes && int64(h.Len()-1) >= excessEntries {
				heldBytes -= heap.Pop(&h).(candidate).size
			}
		}
		return true
	})
	victims := []candidate(h)
	sort.Slice(victims, func(a, b int) bool {
		if victims[a].shard != victims[b].shard {
			return victims[a].shard < victims[b].shard
		}
		return victims[a].used < victims[b].used
	})
	return victims, protected
}

// evictShard removes victims of shard i under its lock, sparing any that
// changed, were used, or gained a per-key lock since they were chosen.
func (s *Store) evictShard(ctx context.Context, i int, victims []candidate, now time.Time) (evicted int, bytes int64, spared int, err error) {
	dirfd, unlock, err := s.lockShard(ctx, i)
	if err != nil {
		return 0, 0, 0, err
	}
	defer unlock()
	idleBefore := now.UnixNano() - 2*int64(s.opts.EvictionGrace)
	for _, c := range victims {
		var st posix.Stat_t
		if s.lstatAt(dirfd, c.name, &st) != nil ||
			st.Ino != c.ino || recency(&st) > idleBefore || keyLockExists(dirfd, c.name) {
			spared++
			continue
		}
		if removed, _ := s.removeLocked(i, dirfd, c.name); removed {
			evicted++
			bytes += st.Size
		}
	}
	return evicted, bytes, spared, nil
}

func keyLockExists(dirfd int, entryName string) bool {
	base, _ := strings.CutSuffix(entryName, shard.EntrySuffix)
	var st posix.Stat_t
	return posix.Fstatat(dirfd, base+shard.KeyLockSuffix, &st, posix.AT_SYMLINK_NOFOLLOW) == nil
}
