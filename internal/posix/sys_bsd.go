//go:build unix && !linux

package posix

import "golang.org/x/sys/unix"

// UTIME_OMIT in a Timespec leaves that time as it is (the BSDs' value).
const UTIME_OMIT = -2

// Writev writes the pieces with one write(2) of their concatenation, where
// the system package offers no writev.
func Writev(fd int, iovs [][]byte) (int, error) {
	var n int
	for _, p := range iovs {
		n += len(p)
	}
	buf := make([]byte, 0, n)
	for _, p := range iovs {
		buf = append(buf, p...)
	}
	return unix.Write(fd, buf)
}
