//go:build unix && (!linux || bucketcache_portable)

package posix

import "golang.org/x/sys/unix"

// TimeStep is the finest step, in nanoseconds, in which Futimens sets a
// file's times here: futimes(2) takes microseconds.
const TimeStep = 1000

// Fstatat is fstatat(2); with AT_EMPTY_PATH and an empty path it stats
// dirfd itself.
func Fstatat(dirfd int, path string, st *Stat_t, flags int) error {
	if flags&AT_EMPTY_PATH != 0 && path == "" {
		return unix.Fstat(dirfd, st)
	}
	return unix.Fstatat(dirfd, path, st, flags&^AT_EMPTY_PATH)
}

// Futimens sets the access and modification times of the open file fd;
// either may be UTIME_OMIT. Where the system offers only futimes(2), an
// omitted time is read first and set again, to the microsecond.
func Futimens(fd int, ts []Timespec) error {
	var st Stat_t
	if ts[0].Nsec == UTIME_OMIT || ts[1].Nsec == UTIME_OMIT {
		if err := unix.Fstat(fd, &st); err != nil {
			return err
		}
	}
	a, m := ts[0], ts[1]
	if a.Nsec == UTIME_OMIT {
		a = st.Atim
	}
	if m.Nsec == UTIME_OMIT {
		m = st.Mtim
	}
	return unix.Futimes(fd, []unix.Timeval{unix.NsecToTimeval(a.Nano()), unix.NsecToTimeval(m.Nano())})
}
