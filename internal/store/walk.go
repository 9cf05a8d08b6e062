package store

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/bucketcache/bucketcache/internal/fsx"
	"github.com/bucketcache/bucketcache/internal/posix"
	"github.com/bucketcache/bucketcache/shard"
)

// Found is an entry All found: its key and its record.
type Found struct {
	Key []byte
	Record
}

// All yields every live entry this Store would return from Get, shard by
// shard, reading and verifying each file in full. It takes no lock: entries
// written or removed during the walk may or may not be seen. Damaged,
// foreign, expired and too-old entries are skipped, as Get would miss them.
// The yielded slices are the caller's own. An I/O error is yielded with a
// zero Found, and the walk goes on if the caller asks for more; the end of
// ctx is yielded last.
func (s *Store) All(ctx context.Context) iter.Seq2[Found, error] {
	return func(yield func(Found, error) bool) {
		s.entries(ctx, shard.Whole, func(key []byte, rec Record, err error) bool {
			return yield(Found{Key: key, Record: rec}, err)
		})
	}
}

// Count counts the live entries that All would yield and keep accepts
// (nil: all of them), reading each file in full as All does (but keeping no
// value), so that the two always agree.
func (s *Store) Count(ctx context.Context, keep func(key []byte) bool) (int, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	s.entries(ctx, shard.Checked, func(key []byte, _ Record, err error) bool {
		switch {
		case err != nil:
			errs = append(errs, err)
		case keep == nil || keep(key):
			n++
		}
		return true
	})
	return n, errors.Join(errs...)
}

// entries calls fn with every live entry, read to depth, until fn returns
// false; an I/O error or the end of ctx is passed as err.
func (s *Store) entries(ctx context.Context, depth shard.Depth, fn func(key []byte, rec Record, err error) bool) {
	if err := s.checkOpen(); err != nil {
		fn(nil, Record{}, err)
		return
	}
	now := s.opts.Now()
	s.walkShards(func(i, dirfd int, names []string) bool {
		dir := s.layout.DirName(i) + "/"
		for _, name := range names {
			if err := ctx.Err(); err != nil {
				fn(nil, Record{}, fmt.Errorf("bucket %s: walk stopped: %w", s.dir, err))
				return false
			}
			h, ok := shard.ParseEntryName(name)
			if !ok {
				continue
			}
			e, _, _, err := s.readEntry(dir+name, depth, nil, false)
			if err == nil {
				err = s.layout.CheckPlace(i, h, e.Key)
			}
			if err == ErrNotFound || shard.IsDamage(err) {
				continue // gone since the listing, or a miss for Get
			}
			if err != nil {
				if !fn(nil, Record{}, err) {
					return false
				}
				continue
			}
			rec := recordOf(e)
			if rec.Expired(now) || s.tooOld(rec, now) {
				continue
			}
			if !fn(e.Key, rec, nil) {
				return false
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
		names, err := fsx.ReadDirNames(dirfd)
		cont := err != nil || fn(i, dirfd, names)
		posix.Close(dirfd)
		if !cont {
			return
		}
	}
}
