package store

import (
	"context"
	"errors"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/sys/unix"

	"github.com/bucketcache/bucketcache/shard"
)

// PruneShard is Prune for shard i alone, for tools that show progress while
// they prune a large bucket shard by shard.
func (s *Store) PruneShard(i int) (PruneInfo, error) {
	if err := s.checkOpen(); err != nil {
		return PruneInfo{}, err
	}
	return s.sweepShard(i, false)
}

// RemoveDamaged removes the entry file name from shard i if, checked again
// in full under the shard's lock, it is damaged: its header, size, body
// checksum or key is wrong, or it is a symbolic link. A sound entry (one a
// writer put in place since the caller judged it) and anything that is not
// an entry file or a symlink (a directory in an entry's place) is left
// alone. It reports whether it removed the file, and the file's size.
func (s *Store) RemoveDamaged(i int, name string) (removed bool, size int64, err error) {
	if err := s.checkOpen(); err != nil {
		return false, 0, err
	}
	h, ok := shard.ParseEntryName(name)
	if !ok {
		return false, 0, nil // not an entry file's name
	}
	if i < 0 || i >= s.layout.Count() {
		return false, 0, errors.New("store: shard index out of range")
	}
	dirfd, unlock, err := s.lockShard(context.Background(), i)
	if err != nil {
		return false, 0, err
	}
	defer unlock()
	damaged, size, err := s.damagedLocked(dirfd, name, h, i)
	if err != nil || !damaged {
		return false, size, err
	}
	removed, err = s.removeLocked(i, dirfd, name)
	return removed, size, err
}

// damagedLocked reads the entry file name in shard i's directory dirfd in
// full and reports whether it is damaged.
func (s *Store) damagedLocked(dirfd int, name string, h uint64, i int) (bool, int64, error) {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == unix.ELOOP {
		var st unix.Stat_t
		unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
		return true, st.Size, nil // a symlink in an entry's place
	}
	if err == unix.ENOENT {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, s.pathErr("open", s.shardRel(i, name), err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return false, 0, s.pathErr("stat", s.shardRel(i, name), err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return false, st.Size, nil // not ours to remove
	}
	buf := make([]byte, min(st.Size, 4096))
	n, _ := unix.Pread(fd, buf, 0)
	hdr, err := shard.ParseHeader(buf[:max(n, 0)])
	if err != nil || hdr.Size() != st.Size {
		return true, st.Size, nil
	}
	// Stream the body through the checksum, keeping the key.
	dig := xxhash.New()
	key := make([]byte, 0, hdr.KeyLen)
	chunk := make([]byte, 256<<10)
	for off := int64(shard.HeaderSize); off < st.Size; {
		m, err := unix.Pread(fd, chunk[:min(int64(len(chunk)), st.Size-off)], off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, st.Size, s.pathErr("read", s.shardRel(i, name), err)
		}
		if m == 0 {
			return true, st.Size, nil // shrank under us: damaged
		}
		dig.Write(chunk[:m])
		if ko, vo := hdr.KeyOffset(), hdr.ValueOffset(); off+int64(m) > ko && off < vo {
			lo, hi := max(ko, off), min(vo, off+int64(m))
			key = append(key, chunk[lo-off:hi-off]...)
		}
		off += int64(m)
	}
	if dig.Sum64() != hdr.BodySum {
		return true, st.Size, nil
	}
	if kh := shard.Hash(key); kh != h || s.layout.Index(kh) != i {
		return true, st.Size, nil
	}
	return false, st.Size, nil
}
