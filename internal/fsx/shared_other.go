//go:build unix && !linux && !darwin && !freebsd

package fsx

// SharedFilesystem reports whether the directory open as dirfd is on a
// filesystem that several machines may mount. This system is not asked:
// set Options.SharedFilesystem on a network filesystem.
func SharedFilesystem(dirfd int) (string, bool) { return "", false }
