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
			return posix.Openat(dir, name, flags|posix.O_NOFOLLOW|posix.O_CLOEXEC, mode)
		}
		fd, err := posix.Openat(dir, name, posix.O_RDONLY|posix.O_DIRECTORY|posix.O_NOFOLLOW|posix.O_CLOEXEC, 0)
		if err != nil {
			return -1, err
		}
		if dir != root {
			posix.Close(dir)
		}
		dir, rel = fd, rest
	}
}
