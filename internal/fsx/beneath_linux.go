//go:build linux && !bucketcache_portable

package fsx

import "golang.org/x/sys/unix"

// resolve: stay beneath the bucket directory and follow no symbolic link.
const resolve = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// OpenBeneath opens rel, a path relative to the directory root, without
// leaving it and without following any symbolic link on the way (openat2 with
// RESOLVE_BENEATH and RESOLVE_NO_SYMLINKS). On kernels before 5.6 it walks
// one component at a time, as on other systems. A symbolic link in the way
// fails with ELOOP or EXDEV (IsLink).
func OpenBeneath(root int, rel string, flags int, mode uint32) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Mode: uint64(mode), Resolve: resolve}
	for {
		fd, err := unix.Openat2(root, rel, &how)
		if err == unix.EINTR || err == unix.EAGAIN { // EAGAIN: a rename raced the walk
			continue
		}
		if err == unix.ENOSYS {
			return openByComponents(root, rel, flags, mode)
		}
		return fd, err
	}
}
