//go:build unix && !linux

package posix

import (
	"bytes"

	"golang.org/x/sys/unix"
)

// UTIME_OMIT in a Timespec leaves that time as it is (the BSDs' value).
const UTIME_OMIT = -2

// Writev writes the pieces with one write(2) of their concatenation, where
// the system package offers no writev.
func Writev(fd int, iovs [][]byte) (int, error) { return unix.Write(fd, bytes.Join(iovs, nil)) }
