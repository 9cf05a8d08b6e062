package fsx

import (
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows"

	"github.com/bucketcache/bucketcache/internal/posix"
)

// ReadDirNames lists the names in the directory open as fd, which stays open
// and may be listed again.
func ReadDirNames(fd int) ([]string, error) {
	path, err := posix.PathOf(fd)
	if err != nil {
		return nil, err
	}
	d, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
}

// SharedFilesystem reports whether the directory open as dirfd is on a
// filesystem that several machines may mount: a UNC path or a drive that
// Windows calls remote.
func SharedFilesystem(dirfd int) (string, bool) {
	path, err := posix.PathOf(dirfd)
	if err != nil {
		return "", false
	}
	vol := filepath.VolumeName(path)
	if strings.HasPrefix(vol, `\\`) {
		return "smb", true
	}
	root, err := windows.UTF16PtrFromString(vol + `\`)
	if err != nil {
		return "", false
	}
	if windows.GetDriveType(root) == windows.DRIVE_REMOTE {
		return "remote", true
	}
	return "", false
}
