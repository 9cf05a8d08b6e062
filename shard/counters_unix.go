//go:build unix

package shard

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// openNoFollow opens path never through a symbolic link (ELOOP).
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(path, flag|syscall.O_NOFOLLOW, perm)
}

// mapShared maps size bytes of f shared with every process, and returns a
// descriptor of f of its own, kept to check cheaply that a name still
// holds the file.
func mapShared(f *os.File, size int, writable bool) ([]byte, int, error) {
	prot := unix.PROT_READ
	if writable {
		prot |= unix.PROT_WRITE
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, size, prot, unix.MAP_SHARED)
	if err != nil {
		return nil, -1, err
	}
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		unix.Munmap(mem)
		return nil, -1, err
	}
	return mem, fd, nil
}

func unmap(mem []byte) error { return unix.Munmap(mem) }
