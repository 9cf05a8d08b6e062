package fsx

import (
	"strings"

	"github.com/bucketcache/bucketcache/internal/posix"
)

// openByComponents opens rel beneath root one component at a time, each
// with O_NOFOLLOW, the directories on the way also with O_DIRECTORY: a
// symbolic link anywhere on the way fails with ELOOP, and ".." or an
// absolute path with EXDEV, so the walk never leaves root. Paths inside a
// bucket have at most two components (shard directory, file).
func openByComponents(root int, rel string, flags int, mode uint32) (int, error) {
	if rel == "" || strings.HasPrefix(rel, "/") {
		return -1, posix.EXDEV
	}
	dir := root
	defer func() {
		if dir != root {
			posix.Close(dir)
		}
	}()
	for {
		name, rest, more := strings.Cut(rel, "/")
		if name == ".." {
			return -1, posix.EXDEV
		}
		if !more {
			fd, err := posix.Openat(dir, name, flags|posix.O_NOFOLLOW|posix.O_CLOEXEC, mode)
			return fd, linkErr(dir, name, err)
		}
		fd, err := posix.Openat(dir, name, posix.O_RDONLY|posix.O_DIRECTORY|posix.O_NOFOLLOW|posix.O_CLOEXEC, 0)
		if err != nil {
			return -1, linkErr(dir, name, err)
		}
		if dir != root {
			posix.Close(dir)
		}
		dir, rel = fd, rest
	}
}

// linkErr makes the error of an open refused because name in dir is a
// symbolic link ELOOP: with O_DIRECTORY, some systems say ENOTDIR.
func linkErr(dir int, name string, err error) error {
	if err != posix.ENOTDIR {
		return err
	}
	var st posix.Stat_t
	if posix.Fstatat(dir, name, &st, posix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&posix.S_IFMT == posix.S_IFLNK {
		return posix.ELOOP
	}
	return err
}
