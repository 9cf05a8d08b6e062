//go:build unix

package posix

import (
	"runtime"

	"golang.org/x/sys/unix"
)

const (
	O_RDONLY    = unix.O_RDONLY
	O_WRONLY    = unix.O_WRONLY
	O_RDWR      = unix.O_RDWR
	O_CREAT     = unix.O_CREAT
	O_EXCL      = unix.O_EXCL
	O_NOFOLLOW  = unix.O_NOFOLLOW
	O_CLOEXEC   = unix.O_CLOEXEC
	O_DIRECTORY = unix.O_DIRECTORY
	O_NONBLOCK  = unix.O_NONBLOCK

	AT_FDCWD            = unix.AT_FDCWD
	AT_SYMLINK_NOFOLLOW = unix.AT_SYMLINK_NOFOLLOW
	AT_REMOVEDIR        = unix.AT_REMOVEDIR

	S_IFMT  = unix.S_IFMT
	S_IFREG = unix.S_IFREG
	S_IFDIR = unix.S_IFDIR
	S_IFLNK = unix.S_IFLNK

	LOCK_EX = unix.LOCK_EX
	LOCK_NB = unix.LOCK_NB
	LOCK_UN = unix.LOCK_UN

	PROT_READ       = unix.PROT_READ
	PROT_WRITE      = unix.PROT_WRITE
	MAP_SHARED      = unix.MAP_SHARED
	F_DUPFD_CLOEXEC = unix.F_DUPFD_CLOEXEC
)

const (
	EAGAIN      = unix.EAGAIN
	EEXIST      = unix.EEXIST
	EINTR       = unix.EINTR
	EINVAL      = unix.EINVAL
	EISDIR      = unix.EISDIR
	ELOOP       = unix.ELOOP
	ENOENT      = unix.ENOENT
	ENOSYS      = unix.ENOSYS
	ENOTDIR     = unix.ENOTDIR
	ESTALE      = unix.ESTALE
	EWOULDBLOCK = unix.EWOULDBLOCK
	EXDEV       = unix.EXDEV
)

type (
	Stat_t   = unix.Stat_t
	Timespec = unix.Timespec
)

func Open(path string, mode int, perm uint32) (int, error) { return unix.Open(path, mode, perm) }

// Openat is openat(2). A symbolic link refused by O_NOFOLLOW fails with
// ELOOP on every system (FreeBSD says EMLINK).
func Openat(dirfd int, path string, flags int, mode uint32) (int, error) {
	fd, err := unix.Openat(dirfd, path, flags, mode)
	if runtime.GOOS == "freebsd" && err == unix.EMLINK && flags&O_NOFOLLOW != 0 {
		err = ELOOP
	}
	return fd, err
}
func Close(fd int) error                               { return unix.Close(fd) }
func Fstat(fd int, st *Stat_t) error                   { return unix.Fstat(fd, st) }
func Lstat(path string, st *Stat_t) error              { return unix.Lstat(path, st) }
func Unlink(path string) error                         { return unix.Unlink(path) }
func Unlinkat(dirfd int, path string, flags int) error { return unix.Unlinkat(dirfd, path, flags) }
func Renameat(olddirfd int, oldpath string, newdirfd int, newpath string) error {
	return unix.Renameat(olddirfd, oldpath, newdirfd, newpath)
}
func Mkdirat(dirfd int, path string, mode uint32) error { return unix.Mkdirat(dirfd, path, mode) }
func Fsync(fd int) error                                { return unix.Fsync(fd) }
func Write(fd int, p []byte) (int, error)               { return unix.Write(fd, p) }
func Pread(fd int, p []byte, offset int64) (int, error) { return unix.Pread(fd, p, offset) }
func Flock(fd int, how int) error                       { return unix.Flock(fd, how) }
func UtimesNanoAt(dirfd int, path string, ts []Timespec, flags int) error {
	return unix.UtimesNanoAt(dirfd, path, ts, flags)
}
func Mmap(fd int, offset int64, length int, prot int, flags int) ([]byte, error) {
	return unix.Mmap(fd, offset, length, prot, flags)
}
func Munmap(b []byte) error                          { return unix.Munmap(b) }
func FcntlInt(fd uintptr, cmd, arg int) (int, error) { return unix.FcntlInt(fd, cmd, arg) }
func NsecToTimespec(nsec int64) Timespec             { return unix.NsecToTimespec(nsec) }
func Mkdev(major, minor uint32) uint64               { return unix.Mkdev(major, minor) }
