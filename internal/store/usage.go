package store

import (
	"math/rand/v2"
	"time"

	"github.com/bucketcache/bucketcache/internal/fsx"
	"github.com/bucketcache/bucketcache/internal/posix"
	"github.com/bucketcache/bucketcache/shard"
)

// Usage is how much the bucket's entry files take, as the shared counters
// know it.
type Usage struct {
	Bytes   int64 // bytes of entry files
	Entries int64 // entry files (live or not yet pruned)
	// Known is false when some shard's usage is unknown (a Store without
	// limits wrote to it, or a writer died mid-change); such shards count as
	// empty until a Store with limits writes to them or trims, recounting
	// them from their directory.
	Known      bool
	MaxBytes   int64 // the Store's limits (0: none)
	MaxEntries int64
}

// Usage returns the bucket's usage as the shared counters know it: one
// atomic load per shard, no system call.
func (s *Store) Usage() Usage {
	u := Usage{Known: s.ctrs != nil, MaxBytes: s.opts.MaxBytes, MaxEntries: s.opts.MaxEntries}
	if s.ctrs == nil {
		return u
	}
	u.Bytes, u.Entries, u.Known = s.ctrs.TotalUsage(s.layout.Count())
	return u
}

// limited reports whether the Store has size limits. Only then does it keep
// the shared usage counts exact, which costs a stat per write.
func (s *Store) limited() bool { return s.opts.MaxBytes > 0 || s.opts.MaxEntries > 0 }

// account records a change of shard i's usage made under its lock. A shard
// whose usage is unknown is recounted from its directory instead. A Store
// without limits does not count: it marks the usage unknown, for whoever
// needs it to recount.
func (s *Store) account(i, dirfd int, bytes, entries int64) {
	if s.ctrs == nil {
		return
	}
	if !s.limited() {
		s.ctrs.Forget(i)
		return
	}
	if _, _, known := s.ctrs.Usage(i); !known {
		s.recountLocked(i, dirfd)
		return
	}
	s.ctrs.AddUsage(i, bytes, entries)
}

// recountLocked counts shard i's entry files and records the result. The
// caller holds the shard's lock, so nothing changes during the count.
func (s *Store) recountLocked(i, dirfd int) {
	names, err := fsx.ReadDirNames(dirfd)
	if err != nil {
		return
	}
	var bytes, entries int64
	for _, name := range names {
		if _, ok := shard.ParseEntryName(name); !ok {
			continue
		}
		if size, ok := sizeAt(dirfd, name); ok {
			bytes += size
			entries++
		}
	}
	s.ctrs.SetUsage(i, bytes, entries)
}

// Entry files carry two times for cheap scans (see docs/format.md): the access
// time is when the entry was last used (written, or read by any process:
// readers stamp it at most once per EvictionGrace), and the modification
// time's seconds are the entry's expiry rounded down (0 standing for never).
// Scans decide on these alone and read a header only to confirm before
// deleting; the header stays the truth. The modification time's nanoseconds
// are random: they make each version of an entry file distinct even when the
// filesystem gives a new version the inode and size of an old one, so that
// the identity the memory layer checks with a stat never mistakes one
// version for another.

// stampTimes sets a new entry file's access time to now and its modification
// time to its expiry (Unix ns, 0 for never) with a random version stamp.
func stampTimes(fd int, now time.Time, expiresAt int64) (mtime int64, err error) {
	var sec int64
	if expiresAt != 0 {
		sec = max(expiresAt/1e9, 1) // rounded down: the hint is never late
	}
	// Random nanoseconds in the steps this system sets times in, so that
	// a filesystem that keeps them reports exactly what was set.
	mt := posix.Timespec{Sec: sec, Nsec: rand.Int64N(1e9/posix.TimeStep) * posix.TimeStep}
	return mt.Nano(), futimens(fd, []posix.Timespec{posix.NsecToTimespec(now.UnixNano()), mt})
}

// stampUsedFD records in an open entry file's access time that it was used
// at now, leaving its modification time alone.
func stampUsedFD(fd int, now time.Time) error {
	return futimens(fd, []posix.Timespec{posix.NsecToTimespec(now.UnixNano()), {Nsec: posix.UTIME_OMIT}})
}

func futimens(fd int, ts []posix.Timespec) error { return posix.Futimens(fd, ts) }

// recency is when an entry file was last used, by any process (Unix ns).
func recency(st *posix.Stat_t) int64 { return st.Atim.Nano() }

// expiredByTime reports whether an entry file's modification time says its
// entry has expired at now (Unix ns). Only a header can confirm it.
func expiredByTime(st *posix.Stat_t, now int64) bool {
	sec := st.Mtim.Sec
	return sec != 0 && now >= sec*1e9
}

// touchDue reports whether a reader should stamp a file last used at
// last (Unix ns): at most once per EvictionGrace, so reads stay cheap.
func (s *Store) touchDue(last int64, now time.Time) bool {
	return now.UnixNano()-last >= int64(s.opts.EvictionGrace)
}
