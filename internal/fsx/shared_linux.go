package fsx

import "golang.org/x/sys/unix"

// Filesystem magic numbers (statfs f_type) of filesystems that several
// machines may mount at once.
var sharedFilesystems = map[int64]string{
	0x6969:     "nfs",
	0xff534d42: "cifs",
	0xfe534d42: "smb2",
	0x517b:     "smb",
	0x65735546: "fuse", // GlusterFS, sshfs, ... (FUSE hides which)
	0x00c36400: "ceph",
	0x0bd00bd0: "lustre",
	0x01021997: "9p",
	0x5346414f: "afs",
	0x47504653: "gpfs",
}

// SharedFilesystem reports whether the directory open as dirfd is on a
// filesystem that several machines may mount, and which kind.
func SharedFilesystem(dirfd int) (string, bool) {
	var st unix.Statfs_t
	if unix.Fstatfs(dirfd, &st) != nil {
		return "", false
	}
	name, shared := sharedFilesystems[int64(st.Type)]
	return name, shared
}
