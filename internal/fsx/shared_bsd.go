//go:build darwin || freebsd

package fsx

import "golang.org/x/sys/unix"

// Filesystem type names (statfs f_fstypename) of filesystems that several
// machines may mount at once.
var sharedFilesystems = map[string]bool{
	"nfs": true, "smbfs": true, "afpfs": true, "webdav": true, "cifs": true,
	"fusefs": true, "macfuse": true, "osxfuse": true, "ceph": true, "9p": true,
}

// SharedFilesystem reports whether the directory open as dirfd is on a
// filesystem that several machines may mount, and which kind.
func SharedFilesystem(dirfd int) (string, bool) {
	var st unix.Statfs_t
	if unix.Fstatfs(dirfd, &st) != nil {
		return "", false
	}
	name := unix.ByteSliceToString(st.Fstypename[:])
	return name, sharedFilesystems[name]
}
