// Package fsx holds the few system-call helpers that the engine and the view
// both need to reach files inside a bucket directory safely: opening beneath
// the directory without following symbolic links, reading from a raw
// descriptor, naming one version of a file, and listing a directory.
package fsx

import (
	"errors"
	"io"

	"golang.org/x/sys/unix"
)

// resolve: stay beneath the bucket directory and follow no symbolic link.
const resolve = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// OpenBeneath opens rel, a path relative to the directory root, without
// leaving it and without following any symbolic link on the way (openat2 with
// RESOLVE_BENEATH and RESOLVE_NO_SYMLINKS). On kernels before 5.6 it falls
// back to openat with O_NOFOLLOW, which still never follows the last
// component. A symbolic link in the way fails with ELOOP or EXDEV (IsLink).
func OpenBeneath(root int, rel string, flags int, mode uint32) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Mode: uint64(mode), Resolve: resolve}
	for {
		fd, err := unix.Openat2(root, rel, &how)
		if err == unix.EINTR || err == unix.EAGAIN { // EAGAIN: a rename raced the walk
			continue
		}
		if err == unix.ENOSYS {
			return unix.Openat(root, rel, flags|unix.O_CLOEXEC|unix.O_NOFOLLOW, mode)
		}
		return fd, err
	}
}

// IsMissing reports errors that mean "no file here".
func IsMissing(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR)
}

// IsLink reports the errors OpenBeneath gives for a symbolic link in the way.
func IsLink(err error) bool {
	return errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV)
}

// FileID identifies one version of an entry file: every write renames a new
// file into place, which brings a new inode, and a file rewritten in place
// has a new modification time.
type FileID struct {
	Ino   uint64
	Size  int64
	Mtime int64 // Unix nanoseconds
}

// IDOf is the FileID of the file st describes.
func IDOf(st *unix.Stat_t) FileID {
	return FileID{Ino: st.Ino, Size: st.Size, Mtime: st.Mtim.Nano()}
}

// File reads from a raw descriptor at offsets (pread), retrying EINTR. It is
// an io.ReaderAt: a read that reaches the end of the file early returns
// io.EOF with the count read.
type File int

// ReadAt implements io.ReaderAt.
func (f File) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		m, err := unix.Pread(int(f), p[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, io.EOF
		}
		n += m
	}
	return n, nil
}

// ReadDirNames lists the names in the directory open as fd, which stays open
// and may be listed again.
func ReadDirNames(fd int) ([]string, error) {
	var names []string
	buf := make([]byte, 32<<10)
	if _, err := unix.Seek(fd, 0, io.SeekStart); err != nil {
		return nil, err
	}
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return names, err
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
}
