//go:build unix

package gocacheprog

import (
	"os"

	"golang.org/x/sys/unix"
)

const (
	lockShared       = unix.LOCK_SH
	lockExclusiveNow = unix.LOCK_EX | unix.LOCK_NB // fails at once when held
)

// flock is flock(2) on f, retried when a signal interrupts it.
func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			return err
		}
	}
}
