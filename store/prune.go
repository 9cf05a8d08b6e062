package store

import (
	"context"
	"errors"

	"golang.org/x/sys/unix"

	"github.com/bucketcache/bucketcache/entry"
	"github.com/bucketcache/bucketcache/shard"
)

// PruneInfo reports what Prune removed.
type PruneInfo struct {
	Files   int   // files deleted: Expired + Corrupt + Temp
	Bytes   int64 // their total size
	Expired int   // entries whose stored expiry had passed
	Corrupt int   // damaged entry files (and symlinks in an entry's place)
	Temp    int   // temporary files abandoned by writers that died
}

func (p *PruneInfo) add(q PruneInfo) {
	p.Files += q.Files
	p.Bytes += q.Bytes
	p.Expired += q.Expired
	p.Corrupt += q.Corrupt
	p.Temp += q.Temp
}

// Prune deletes, shard by shard under each shard's exclusive lock, entries
// whose stored expiry has passed, entry files whose header is damaged or whose
// size disagrees with it, symlinks in an entry's place, and temporary files
// (under the lock no writer is using one). It reads headers only, never
// values, so damage inside a value is left for Get (a miss) and for a full
// verification. It never deletes a live entry, nor a file or directory that is
// not the bucket's.
func (s *Store) Prune() (PruneInfo, error) {
	return s.sweep(func(h entry.Header, now int64) bool {
		return h.ExpiresAt != 0 && now > h.ExpiresAt
	})
}

// Clear deletes every entry, live or not, and every temporary file.
func (s *Store) Clear() error {
	_, err := s.sweep(func(entry.Header, int64) bool { return true })
	return err
}

// sweep removes, in every shard, temporary files, damaged entry files and
// the entries for which drop returns true.
func (s *Store) sweep(drop func(h entry.Header, now int64) bool) (PruneInfo, error) {
	var total PruneInfo
	if err := s.checkOpen(); err != nil {
		return total, err
	}
	var errs []error
	for i := 0; i < s.layout.Count(); i++ {
		info, err := s.sweepShard(i, drop)
		total.add(info)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return total, errors.Join(errs...)
}

func (s *Store) sweepShard(i int, drop func(entry.Header, int64) bool) (PruneInfo, error) {
	var info PruneInfo
	probe, err := s.openShardDir(i, false)
	if errors.Is(err, unix.ENOENT) {
		return info, nil // never written to
	}
	if err != nil {
		return info, err
	}
	unix.Close(probe)
	dirfd, unlock, err := s.lockShard(context.Background(), i)
	if err != nil {
		return info, err
	}
	defer unlock()
	names, err := readDirNames(dirfd)
	if err != nil {
		return info, s.pathErr("readdir", s.layout.DirName(i), err)
	}
	now := s.opts.Now().UnixNano()
	for _, name := range names {
		var kind *int
		var size int64
		switch {
		case shard.IsTempName(name):
			kind = &info.Temp
			size = fileSize(dirfd, name)
		default:
			h, ok := shard.ParseEntryName(name)
			if !ok {
				continue // not ours: the lock file, or something a person put here
			}
			hdr, sz, err := readHeader(dirfd, name, h, s.layout, i)
			size = sz
			switch {
			case errors.Is(err, errNotFile):
				continue // a directory in an entry's place is not ours to remove
			case entry.IsDamage(err):
				kind = &info.Corrupt
			case err != nil:
				continue // vanished, or unreadable: leave it
			case drop(hdr, now):
				kind = &info.Expired
			default:
				continue
			}
		}
		if kind == &info.Temp {
			if unix.Unlinkat(dirfd, name, 0) != nil {
				continue
			}
		} else if removed, _ := s.removeLocked(i, dirfd, name); !removed {
			continue
		}
		*kind++
		info.Files++
		info.Bytes += size
	}
	return info, nil
}

var errNotFile = errors.New("not a regular file or symlink")

// readHeader reads and checks the header of entry file name in dirfd, whose
// name encodes hash h, belonging to shard i. It returns the file's size.
// A symlink is damage; a directory or other special file is errNotFile.
func readHeader(dirfd int, name string, h uint64, l shard.Layout, i int) (entry.Header, int64, error) {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == unix.ELOOP {
		return entry.Header{}, 0, entry.Damage(entry.ReasonNotRegular)
	}
	if err != nil {
		return entry.Header{}, 0, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return entry.Header{}, 0, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return entry.Header{}, 0, errNotFile
	}
	buf := make([]byte, min(st.Size, 4096))
	n, err := unix.Pread(fd, buf, 0)
	if err != nil {
		return entry.Header{}, st.Size, err
	}
	hdr, err := entry.ParseHeader(buf[:n])
	if err != nil {
		return hdr, st.Size, err
	}
	if hdr.Size() != st.Size {
		return hdr, st.Size, entry.Damage(entry.ReasonShort)
	}
	key := make([]byte, hdr.KeyLen)
	if _, err := unix.Pread(fd, key, hdr.KeyOffset()); err != nil {
		return hdr, st.Size, err
	}
	if kh := shard.Hash(key); kh != h || l.Index(kh) != i {
		return hdr, st.Size, entry.Damage(entry.ReasonKey) // misplaced: no Get can ever find it
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
