package store

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bucketcache/bucketcache/lock"
	"github.com/bucketcache/bucketcache/shard"
)

// PruneInfo reports what Prune removed.
type PruneInfo struct {
	Files   int   // files deleted: Expired + Corrupt + Temp
	Bytes   int64 // their total size
	Expired int   // entries whose stored expiry had passed
	Corrupt int   // damaged entry files (and symlinks in an entry's place)
	Temp    int   // temporary files abandoned by writers that died
	Locks   int   // per-key lock files left by memoized runs that died
}

// Add adds q's counts to p's.
func (p *PruneInfo) Add(q PruneInfo) {
	p.Files += q.Files
	p.Bytes += q.Bytes
	p.Expired += q.Expired
	p.Corrupt += q.Corrupt
	p.Temp += q.Temp
	p.Locks += q.Locks
}

// Prune deletes, shard by shard under each shard's exclusive lock, entries
// whose stored expiry has passed, damaged entry files, symlinks in an entry's
// place, and temporary files (under the lock no writer is using one); and
// per-key lock files that no process holds (left by memoized runs that died). It
// never decodes a value and reads few headers: one stat of each file tells
// its size and, through the modification time writers set to the expiry,
// whether it may have expired; only such files, and files too short to be
// entries, are opened, and a header confirms before anything is deleted. It
// never deletes a live entry, nor a file or directory that is not the
// bucket's. Damage inside a file whose time says it is live is left for Get
// (a miss, and the file is removed) and for a full verification.
func (s *Store) Prune() (PruneInfo, error) { return s.sweep(false) }

// Clear deletes every entry, live or not, and every temporary file.
func (s *Store) Clear() error {
	_, err := s.sweep(true)
	return err
}

// sweep prunes every shard, or with all set clears it, a few shards at a
// time (the work is system calls, which run in parallel).
func (s *Store) sweep(all bool) (PruneInfo, error) {
	var total PruneInfo
	if err := s.checkOpen(); err != nil {
		return total, err
	}
	var (
		mu   sync.Mutex
		errs []error
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for w := 0; w < min(runtime.GOMAXPROCS(0), 4); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < s.layout.Count(); i = int(next.Add(1) - 1) {
				info, err := s.sweepShard(i, all)
				mu.Lock()
				total.Add(info)
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return total, errors.Join(errs...)
}

// sweepShard looks at shard i without its lock, and takes the lock only if
// something may have to go, to decide again, file by file, under it.
func (s *Store) sweepShard(i int, all bool) (PruneInfo, error) {
	var info PruneInfo
	dirfd, err := s.openShardDir(i, false)
	if errors.Is(err, unix.ENOENT) {
		return info, nil // never written to
	}
	if err != nil {
		return info, err
	}
	names, err := readDirNames(dirfd)
	if err != nil {
		unix.Close(dirfd)
		return info, s.pathErr("readdir", s.layout.DirName(i), err)
	}
	now := s.opts.Now().UnixNano()
	var doomed []string
	var st unix.Stat_t
	for _, name := range names {
		if strings.HasSuffix(name, shard.KeyLockSuffix) {
			info.Add(s.sweepKeyLock(i, name))
			continue
		}
		if shard.IsTempName(name) || s.sweepKind(dirfd, false, name, all, now, &st) != nil {
			doomed = append(doomed, name)
		}
	}
	unix.Close(dirfd)
	if len(doomed) == 0 {
		return info, nil
	}
	dirfd, unlock, err := s.lockShard(context.Background(), i)
	if err != nil {
		return info, err
	}
	defer unlock()
	var firstErr error // the first removal that failed (a read-only filesystem, say)
	for _, name := range doomed {
		if shard.IsTempName(name) { // under the lock, no writer is using it
			size, _ := sizeAt(dirfd, name)
			switch err := unix.Unlinkat(dirfd, name, 0); {
			case err == nil:
				info.Temp++
				info.Files++
				info.Bytes += size
			case err != unix.ENOENT && firstErr == nil:
				firstErr = s.pathErr("remove", s.shardRel(i, name), err)
			}
			continue
		}
		kind := s.sweepKind(dirfd, true, name, all, now, &st)
		if kind == nil {
			continue
		}
		removed, err := s.removeLocked(i, dirfd, name)
		if removed {
			*kind(&info)++
			info.Files++
			info.Bytes += st.Size
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return info, firstErr
}

// sweepKeyLock removes a per-key lock file that nobody holds: one left by a
// memoized run whose process died (a live run holds its lock). It uses the
// lock's own removal protocol, so a caller about to lock it retries on a new
// file instead of two callers both holding one.
func (s *Store) sweepKeyLock(i int, name string) PruneInfo {
	var info PruneInfo
	path := filepath.Join(s.dir, s.layout.DirName(i), name)
	size := fileSize(s.root, s.shardRel(i, name))
	l := lock.NewRemovable(path)
	if ok, err := l.TryLock(); err != nil || !ok {
		return info
	}
	if l.Remove() == nil {
		info.Locks, info.Files, info.Bytes = 1, 1, size
	}
	return info
}

// sweepKind decides whether the entry file name in the shard directory
// dirfd must go, and returns which PruneInfo counter it counts in, or nil to
// keep it. Without the lock it only screens; under the lock it decides for
// good. It fills st.
func (s *Store) sweepKind(dirfd int, locked bool, name string, all bool, now int64, st *unix.Stat_t) func(*PruneInfo) *int {
	h, ok := shard.ParseEntryName(name)
	if !ok {
		return nil // not ours: the lock file, or something a person put here
	}
	if unix.Fstatat(dirfd, name, st, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return nil
	}
	expired := func(p *PruneInfo) *int { return &p.Expired }
	corrupt := func(p *PruneInfo) *int { return &p.Corrupt }
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return corrupt // a symlink in an entry's place: removed, never followed
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return nil // a directory in an entry's place is not ours to remove
	case all:
		return expired
	case st.Size < shard.HeaderSize:
		return corrupt
	case !expiredByTime(st, now):
		return nil // its time says live: not opened
	case !locked:
		return expired // a candidate: confirmed under the lock
	}
	hdr, _, err := readHeader(dirfd, name, h, s.layout, s.layout.Index(h))
	switch {
	case shard.IsDamage(err):
		return corrupt
	case err != nil || !hdr.Expired(time.Unix(0, now)):
		return nil
	}
	return expired
}

var errNotFile = errors.New("not a regular file or symlink")

// readHeader reads and checks the header of entry file name in dirfd, whose
// name encodes hash h, belonging to shard i. It returns the file's size.
// A symlink is damage; a directory or other special file is errNotFile.
func readHeader(dirfd int, name string, h uint64, l shard.Layout, i int) (shard.Header, int64, error) {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == unix.ELOOP {
		return shard.Header{}, 0, shard.Damage(shard.ReasonNotRegular)
	}
	if err != nil {
		return shard.Header{}, 0, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return shard.Header{}, 0, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return shard.Header{}, 0, errNotFile
	}
	buf := make([]byte, min(st.Size, 4096))
	n, err := unix.Pread(fd, buf, 0)
	if err != nil {
		return shard.Header{}, st.Size, err
	}
	hdr, err := shard.ParseHeader(buf[:n])
	if err != nil {
		return hdr, st.Size, err
	}
	if hdr.Size() != st.Size {
		return hdr, st.Size, shard.Damage(shard.ReasonShort)
	}
	key := make([]byte, hdr.KeyLen)
	if _, err := unix.Pread(fd, key, hdr.KeyOffset()); err != nil {
		return hdr, st.Size, err
	}
	if kh := shard.Hash(key); kh != h || l.Index(kh) != i {
		return hdr, st.Size, shard.Damage(shard.ReasonKey) // misplaced: no Get can ever find it
	}
	return hdr, st.Size, nil
}

func fileSize(dirfd int, name string) int64 {
	var st unix.Stat_t
	if unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return 0
	}
	return st.Size
}
