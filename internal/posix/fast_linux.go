//go:build linux && !bucketcache_portable

package posix

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Portable reports whether this build uses the portable path (no statx).
const Portable = false

// TimeStep is the finest step, in nanoseconds, in which Futimens sets a
// file's times here: utimensat(2) takes nanoseconds.
const TimeStep = 1

const (
	AT_EMPTY_PATH       = unix.AT_EMPTY_PATH
	AT_STATX_FORCE_SYNC = unix.AT_STATX_FORCE_SYNC
	STATX_TYPE          = unix.STATX_TYPE
	STATX_INO           = unix.STATX_INO
	STATX_NLINK         = unix.STATX_NLINK
	STATX_BASIC_STATS   = unix.STATX_BASIC_STATS
)

type Statx_t = unix.Statx_t

func Statx(dirfd int, path string, flags int, mask int, stat *Statx_t) error {
	return unix.Statx(dirfd, path, flags, mask, stat)
}

func Fstatat(dirfd int, path string, st *Stat_t, flags int) error {
	return unix.Fstatat(dirfd, path, st, flags)
}

// Futimens sets the access and modification times of the open file fd;
// either may be UTIME_OMIT.
func Futimens(fd int, ts []Timespec) error {
	// utimensat(fd, NULL, ts, 0) is futimens(3): it needs no path.
	_, _, errno := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// StatOfStatx fills the fields of a Stat_t that a statx result holds:
// Mode, Ino, Size, Atim and Mtim.
func StatOfStatx(x *Statx_t) Stat_t {
	st := Stat_t{Mode: uint32(x.Mode), Ino: x.Ino, Size: int64(x.Size)}
	st.Atim = unix.NsecToTimespec(x.Atime.Sec*1e9 + int64(x.Atime.Nsec))
	st.Mtim = unix.NsecToTimespec(x.Mtime.Sec*1e9 + int64(x.Mtime.Nsec))
	return st
}
