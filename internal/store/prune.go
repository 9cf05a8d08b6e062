package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bucketcache/bucketcache/internal/fsx"
	"github.com/bucketcache/bucketcache/internal/posix"
	"github.com/bucketcache/bucketcache/lock"
	"github.com/bucketcache/bucketcache/shard"
)

// PruneInfo reports what Prune, Clear or Verify found and removed.
type PruneInfo struct {
	Files   int   // files deleted: Expired + Corrupt + Temp + Locks
	Bytes   int64 // their total size
	Expired int   // entries whose stored expiry had passed
	Corrupt int   // damaged entry files (and symlinks in an entry's place) removed
	Temp    int   // temporary files abandoned by writers that died
	Locks   int   // per-key lock files left by memoized runs that died
	Foreign int   // files in an entry's place the format does not own, left alone
	Checked int   // entry files read (Verify, and a full Prune)
	Damaged int   // damaged entry files found, removed or not
}

// Add adds q's counts to p's.
func (p *PruneInfo) Add(q PruneInfo) {
	p.Files += q.Files
	p.Bytes += q.Bytes
	p.Expired += q.Expired
	p.Corrupt += q.Corrupt
	p.Temp += q.Temp
	p.Locks += q.Locks
	p.Foreign += q.Foreign
	p.Checked += q.Checked
	p.Damaged += q.Damaged
}

// Finding is one file a sweep reports: damaged, or not the format's.
type Finding struct {
	Path    string       // relative to the bucket directory
	Reason  shard.Reason // why it is not a sound entry; Reason.Foreign tells whose it is
	Size    int64
	Removed bool
	Err     error // why a removal failed
}

// SweepOptions say what a sweep over every shard does. The zero value is
// Prune.
type SweepOptions struct {
	// Clear removes every entry of the format's, live or not.
	Clear bool
	// Verify reads every entry file in full and removes nothing but, with
	// Fix, damaged ones. Without Verify, a sweep prunes.
	Verify bool
	// Full makes a prune read every entry file in full, as Verify does, so
	// that damage inside a value is found and removed too. Without it, a
	// prune opens only files whose times say they may have expired, and
	// files too short to be entries.
	Full bool
	// Fix makes Verify remove the damage it finds.
	Fix bool
	// Report, when set, is called with each damaged or foreign file found,
	// from one goroutine at a time.
	Report func(Finding)
	// Progress, when set, is called as shards are done, from one goroutine
	// at a time.
	Progress func(done, total int)
}

// Prune deletes, shard by shard under each shard's exclusive lock, entries
// whose stored expiry has passed, damaged entry files, symlinks in an entry's
// place, temporary files (under the lock no writer is using one) and
// per-key lock files that no process holds (left by memoized runs that
// died). It never decodes a value and reads few headers: one stat of each
// file tells its size and, through the modification time writers set to the
// expiry, whether it may have expired; only such files, and files too short
// to be entries, are opened, and a header confirms before anything is
// deleted. So damage inside a file whose time says it is live is left for
// Get (a miss, and the file is removed) and for a full sweep
// (SweepOptions.Full or Verify). It never deletes a live entry, nor a file
// the format does not own: a name that is not an entry's, a temporary
// file's or a key lock's, a file without the entry magic, or a directory.
func (s *Store) Prune(ctx context.Context) (PruneInfo, error) {
	return s.Sweep(ctx, SweepOptions{})
}

// Clear deletes every entry, live or not, and every temporary file; what the
// format does not own stays.
func (s *Store) Clear(ctx context.Context) error {
	_, err := s.Sweep(ctx, SweepOptions{Clear: true})
	return err
}

// Sweep walks every shard as opts say, a few shards at a time (the work is
// system calls, which run in parallel). When ctx ends it stops between
// files and returns ctx's error, wrapped; every shard it touched is left
// consistent, since each removal is one unlink under the shard's lock.
func (s *Store) Sweep(ctx context.Context, opts SweepOptions) (PruneInfo, error) {
	var total PruneInfo
	if err := s.checkOpen(); err != nil {
		return total, err
	}
	var (
		mu   sync.Mutex // guards total, errs, done and the callbacks
		errs []error
		done int
		next atomic.Int64
		wg   sync.WaitGroup
	)
	report := func(f Finding) {}
	if opts.Report != nil {
		report = func(f Finding) { mu.Lock(); defer mu.Unlock(); opts.Report(f) }
	}
	n := s.layout.Count()
	for w := 0; w < min(runtime.GOMAXPROCS(0), 4); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				info, err := s.sweepShard(ctx, i, &opts, report)
				mu.Lock()
				total.Add(info)
				if err != nil {
					errs = append(errs, err)
				}
				done++
				if opts.Progress != nil {
					opts.Progress(done, n)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		errs = append(errs, fmt.Errorf("bucket %s: sweep stopped: %w", s.dir, err))
	}
	return total, errors.Join(errs...)
}

// verdict is what judge decides about one entry file name.
type verdict int

const (
	keep    verdict = iota // live (or unreadable: neither shown nor judged)
	expired                // a sound entry whose stored expiry has passed
	damaged                // the format's own damage: removable
	foreign                // not the format's: left alone
)

// sweepShard looks at shard i without its lock, and takes the lock only if
// something may have to go, to decide again, file by file, under it.
func (s *Store) sweepShard(ctx context.Context, i int, opts *SweepOptions, report func(Finding)) (PruneInfo, error) {
	var info PruneInfo
	dirfd, err := s.openShardDir(i, false)
	if errors.Is(err, posix.ENOENT) {
		return info, nil // never written to
	}
	if err != nil {
		return info, err
	}
	names, err := fsx.ReadDirNames(dirfd)
	if err != nil {
		posix.Close(dirfd)
		return info, s.pathErr("readdir", s.layout.DirName(i), err)
	}
	pruning := !opts.Verify
	full := opts.Verify || opts.Full
	now := s.opts.Now().UnixNano()
	var doomed []string
	for _, name := range names {
		if ctx.Err() != nil {
			break
		}
		switch {
		case shard.IsKeyLockName(name):
			if pruning {
				info.Add(s.sweepKeyLock(i, name))
			}
			continue
		case shard.IsTempName(name):
			if pruning {
				doomed = append(doomed, name)
			}
			continue
		}
		h, ok := shard.ParseEntryName(name)
		if !ok {
			continue // not the format's: the lock file, or something a person put here
		}
		v, reason, size := s.judge(dirfd, name, h, i, full, !full && !opts.Clear, now)
		if full && v != foreign {
			info.Checked++
		}
		switch v {
		case foreign:
			info.Foreign++
			report(Finding{Path: s.shardRel(i, name), Reason: reason, Size: size})
		case damaged:
			info.Damaged++
			if opts.Verify && !opts.Fix {
				report(Finding{Path: s.shardRel(i, name), Reason: reason, Size: size})
			}
		}
		if v == damaged && (pruning || opts.Fix) || pruning && (v == expired || v == keep && opts.Clear) {
			doomed = append(doomed, name)
		}
	}
	posix.Close(dirfd)
	if len(doomed) == 0 {
		return info, nil
	}
	dirfd, unlock, err := s.lockShard(ctx, i)
	if err != nil {
		return info, err
	}
	defer unlock()
	var firstErr error // the first removal that failed (a read-only filesystem, say)
	for _, name := range doomed {
		if shard.IsTempName(name) { // under the lock, no writer is using it
			size, _ := sizeAt(dirfd, name)
			switch err := posix.Unlinkat(dirfd, name, 0); {
			case err == nil:
				info.Temp++
				info.Files++
				info.Bytes += size
			case err != posix.ENOENT && firstErr == nil:
				firstErr = s.pathErr("remove", s.shardRel(i, name), err)
			}
			continue
		}
		h, _ := shard.ParseEntryName(name)
		v, reason, size := s.judge(dirfd, name, h, i, full, false, now)
		if v == foreign || v == keep && !opts.Clear || v == expired && opts.Verify {
			continue // sound after all: a writer replaced it since the look
		}
		removed, err := s.removeLocked(i, dirfd, name)
		if removed {
			if v == damaged {
				info.Corrupt++
			} else {
				info.Expired++
			}
			info.Files++
			info.Bytes += size
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if v == damaged {
			report(Finding{Path: s.shardRel(i, name), Reason: reason, Size: size, Removed: removed, Err: err})
		}
	}
	return info, firstErr
}

// judge decides about the entry file name, for hash h, in shard i's
// directory dirfd: sound and live, sound and expired (by its header, read
// through shard.ReadEntry), the format's own damage, or not the format's.
// With full it reads the whole file, body checksum included; with screen it
// opens only files whose size or times say they may have to go, and calls
// the rest live. A file it cannot read is kept. It returns the size on disk.
func (s *Store) judge(dirfd int, name string, h uint64, i int, full, screen bool, now int64) (verdict, shard.Reason, int64) {
	var st posix.Stat_t
	if posix.Fstatat(dirfd, name, &st, posix.AT_SYMLINK_NOFOLLOW) != nil {
		return keep, "", 0 // gone since the listing
	}
	switch {
	case st.Mode&posix.S_IFMT == posix.S_IFLNK:
		return damaged, shard.ReasonSymlink, st.Size // removed, never followed
	case st.Mode&posix.S_IFMT != posix.S_IFREG:
		return foreign, shard.ReasonNotRegular, st.Size
	case screen && st.Size >= shard.HeaderSize && !expiredByTime(&st, now):
		return keep, "", st.Size // its time says live: not opened
	}
	fd, err := posix.Openat(dirfd, name, posix.O_RDONLY|posix.O_NONBLOCK|posix.O_NOFOLLOW|posix.O_CLOEXEC, 0)
	if err != nil {
		if err == posix.ELOOP {
			return damaged, shard.ReasonSymlink, st.Size
		}
		return keep, "", st.Size
	}
	defer posix.Close(fd)
	if posix.Fstat(fd, &st) != nil {
		return keep, "", st.Size
	}
	if st.Mode&posix.S_IFMT != posix.S_IFREG {
		return foreign, shard.ReasonNotRegular, st.Size
	}
	depth := shard.Head
	if full {
		depth = shard.Checked
	}
	e, err := shard.ReadEntry(fsx.File(fd), st.Size, depth, nil)
	if err == nil {
		err = s.layout.CheckPlace(i, h, e.Key)
	}
	switch r := shard.ReasonOf(err); {
	case r.Foreign():
		return foreign, r, st.Size
	case r != "":
		return damaged, r, st.Size
	case err != nil:
		return keep, "", st.Size
	case e.Expired(time.Unix(0, now)):
		return expired, "", st.Size
	}
	return keep, "", st.Size
}

// sweepKeyLock removes a per-key lock file that nobody holds: one left by a
// memoized run whose process died (a live run holds its lock). It uses the
// lock's own removal protocol, so a caller about to lock it retries on a new
// file instead of two callers both holding one.
func (s *Store) sweepKeyLock(i int, name string) PruneInfo {
	var info PruneInfo
	path := filepath.Join(s.dir, s.layout.DirName(i), name)
	size, _ := sizeAt(s.root, s.shardRel(i, name))
	l := lock.New(path)
	if ok, err := l.TryLock(); err != nil || !ok {
		return info
	}
	if l.Remove() == nil {
		info.Locks, info.Files, info.Bytes = 1, 1, size
	}
	return info
}
