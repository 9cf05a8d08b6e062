package view

import (
	"errors"
	"io"

	"golang.org/x/sys/unix"
)

// resolve: stay beneath the bucket directory and follow no symbolic link.
const resolve = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// openBeneath opens rel, relative to the directory root, without leaving it
// and without following any symbolic link on the way.
func openBeneath(root int, rel string, flags int) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: resolve}
	for {
		fd, err := unix.Openat2(root, rel, &how)
		if err == unix.EINTR || err == unix.EAGAIN { // EAGAIN: a rename raced the walk
			continue
		}
		if err == unix.ENOSYS { // before Linux 5.6: at least never follow the last component
			return unix.Openat(root, rel, flags|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		}
		return fd, err
	}
}

// isMissing reports errors that mean "no file here".
func isMissing(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR)
}

// isLink reports the errors openBeneath gives for a symbolic link in the way.
func isLink(err error) bool {
	return err == unix.ELOOP || err == unix.EXDEV
}

// pread reads len(p) bytes at off, retrying EINTR and short reads. A file
// that ends first gives io.ErrUnexpectedEOF (io.EOF when nothing was read).
func pread(fd int, p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		m, err := unix.Pread(fd, p[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			if n == 0 {
				return 0, io.EOF
			}
			return n, io.ErrUnexpectedEOF
		}
		n += m
	}
	return n, nil
}

// readDirNames lists the directory open as fd; fd stays open.
func readDirNames(fd int) ([]string, error) {
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
