//go:build unix

package main

import (
	"strings"

	"golang.org/x/sys/unix"
)

// xattrs lists the extended attributes of path as name, value pairs.
func xattrs(path string) ([][2]string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Listxattr(path, buf)
	if err != nil {
		return nil, err
	}
	var out [][2]string
	for _, name := range strings.Split(strings.TrimSuffix(string(buf[:n]), "\x00"), "\x00") {
		val := make([]byte, 4096)
		m, err := unix.Getxattr(path, name, val)
		if err != nil {
			return nil, err
		}
		out = append(out, [2]string{name, string(val[:m])})
	}
	return out, nil
}
