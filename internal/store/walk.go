package store

import (
	"errors"
	"iter"

	"golang.org/x/sys/unix"

	"github.com/bucketcache/bucketcache/shard"
)

// All yields the key and record of every live entry this Store would return
// from Get, shard by shard, reading and verifying each file in full. It takes
// no lock: entries written or removed during the walk may or may not be seen.
// Damaged, expired and too-old entries are skipped. The yielded slices are
// the caller's own.
func (s *Store) All() iter.Seq2[[]byte, Record] {
	return func(yield func([]byte, Record) bool) {
		now := s.opts.Now()
		s.walk(func(rel string, h uint64, i int) bool {
			e, _, _, err := s.readEntry(rel, false)
			if err != nil || shard.Hash(e.Key) != h {
				return true
			}
			rec := recordOf(e)
			if rec.Expired(now) || s.tooOld(rec, now) {
				return true
			}
			return yield(e.Key, rec)
		})
	}
}

// Len counts the live entries in the bucket. It stats each entry file and
// judges expiry by its modification time (see Prune); only with a Lifetime
// does it read headers, for the time each entry was written. Damaged entries
// are counted until a Get or a verification finds them out.
func (s *Store) Len() (int, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	n := 0
	now := s.opts.Now()
	var errs []error
	s.walkShards(func(i, dirfd int, names []string) bool {
		for _, name := range names {
			h, ok := shard.ParseEntryName(name)
			if !ok {
				continue
			}
			var st unix.Stat_t
			if unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil ||
				st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size < shard.HeaderSize ||
				expiredByTime(&st, now.UnixNano()) {
				continue
			}
			if s.opts.Lifetime > 0 {
				hdr, _, err := readHeader(dirfd, name, h, s.layout, i)
				if err != nil {
					if !shard.IsDamage(err) && !errors.Is(err, errNotFile) && err != unix.ENOENT {
						errs = append(errs, s.pathErr("read", s.shardRel(i, name), err))
					}
					continue
				}
				if hdr.Expired(now) || hdr.OlderThan(s.opts.Lifetime, now) {
					continue
				}
			}
			n++
		}
		return true
	})
	return n, errors.Join(errs...)
}

// walk calls fn with the relative path, hash and shard of every entry file
// name, shard by shard, until fn returns false.
func (s *Store) walk(fn func(rel string, h uint64, i int) bool) {
	s.walkShards(func(i, _ int, names []string) bool {
		dir := s.layout.DirName(i) + "/"
		for _, name := range names {
			if h, ok := shard.ParseEntryName(name); ok {
				if !fn(dir+name, h, i) {
					return false
				}
			}
		}
		return true
	})
}

// walkShards lists each existing shard directory in turn, holding only one
// shard's names in memory at a time.
func (s *Store) walkShards(fn func(i, dirfd int, names []string) bool) {
	for i := 0; i < s.layout.Count(); i++ {
		dirfd, err := s.openShardDir(i, false)
		if err != nil {
			continue
		}
		names, err := readDirNames(dirfd)
		cont := err != nil || fn(i, dirfd, names)
		unix.Close(dirfd)
		if !cont {
			return
		}
	}
}
