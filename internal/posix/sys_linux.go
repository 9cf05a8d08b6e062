package posix

import "golang.org/x/sys/unix"

// UTIME_OMIT in a Timespec leaves that time as it is.
const UTIME_OMIT = unix.UTIME_OMIT

func Writev(fd int, iovs [][]byte) (int, error) { return unix.Writev(fd, iovs) }
