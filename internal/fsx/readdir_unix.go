//go:build unix

package fsx

import (
	"io"

	"golang.org/x/sys/unix"
)

// ReadDirNames lists the names in the directory open as fd, which stays open
// and may be listed again.
func ReadDirNames(fd int) ([]string, error) {
	var names []string
	buf := make([]byte, 32<<10)
	if _, err := unix.Seek(fd, 0, io.SeekStart); err != nil {
		return nil, err
	}
	for {
		n, err := unix.ReadDirent(fd, buf)
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
