package gocacheprog

import (
	"os"

	"golang.org/x/sys/windows"
)

const (
	lockShared       = 0
	lockExclusiveNow = windows.LOCKFILE_EXCLUSIVE_LOCK | windows.LOCKFILE_FAIL_IMMEDIATELY // fails at once when held
)

// flock locks f's first byte with LockFileEx: shared, or as how says.
func flock(f *os.File, how int) error {
	var o windows.Overlapped
	return windows.LockFileEx(windows.Handle(f.Fd()), uint32(how), 0, 1, 0, &o)
}
