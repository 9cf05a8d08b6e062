// Package fsx holds the few system-call helpers that the engine and the view
// both need to reach files inside a bucket directory safely: opening beneath
// the directory without following symbolic links, reading from a raw
// descriptor, naming one version of a file, and listing a directory.
package fsx

import (
	"errors"
	"io"

	"github.com/bucketcache/bucketcache/internal/posix"
)

// IsMissing reports errors that mean "no file here".
func IsMissing(err error) bool {
	return errors.Is(err, posix.ENOENT) || errors.Is(err, posix.ENOTDIR)
}

// IsLink reports the errors OpenBeneath gives for a symbolic link in the way.
func IsLink(err error) bool {
	return errors.Is(err, posix.ELOOP) || errors.Is(err, posix.EXDEV)
}

// FileID identifies one version of an entry file: every write renames a new
// file into place, which brings a new inode, and a file rewritten in place
// has a new modification time.
type FileID struct {
	Ino   uint64
	Size  int64
	Mtime int64 // Unix nanoseconds
}

// Same reports whether now, the identity of the file a name holds now, is
// the version id was taken from. An id recorded by a writer without a stat
// has no inode (0); it then matches on size and modification time, which
// writers make unique to each version with random nanoseconds. A filesystem
// that keeps coarser times than the writer set reports other ones, so such
// an id never matches there: the copy is read again, never mistaken.
func (id FileID) Same(now FileID) bool {
	if id.Ino == 0 {
		return id.Size == now.Size && id.Mtime == now.Mtime && id.Size != 0
	}
	return id == now
}

// IDOf is the FileID of the file st describes.
func IDOf(st *posix.Stat_t) FileID {
	return FileID{Ino: st.Ino, Size: st.Size, Mtime: st.Mtim.Nano()}
}

// File reads from a raw descriptor at offsets (pread), retrying EINTR. It is
// an io.ReaderAt: a read that reaches the end of the file early returns
// io.EOF with the count read.
type File int

// ReadAt implements io.ReaderAt.
func (f File) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		m, err := posix.Pread(int(f), p[n:], off+int64(n))
		if err == posix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, io.EOF
		}
		n += m
	}
	return n, nil
}
