//go:build unix

package store

import "golang.org/x/sys/unix"

func mkfifo(path string) { unix.Mkfifo(path, 0o644) }
