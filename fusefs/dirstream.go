//go:build linux

package fusefs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/bucketcache/bucketcache/internal/view"
)

// dirStream lists the root: ".", "..", then the live entries of each shard
// in turn. Only one shard's entries are in memory at a time. Offsets count
// the entries handed out, so Seekdir (rewinddir, or a seek back to a
// telldir position) restarts the walk and skips that many.
type dirStream struct {
	root    *root
	next    int          // next shard to read
	batch   []view.Entry // entries of the shard being handed out
	pos     int          // next in batch
	off     uint64       // entries handed out so far
	special int          // how many of "." and ".." were handed out
}

var (
	_ fs.DirStream     = (*dirStream)(nil)
	_ fs.FileSeekdirer = (*dirStream)(nil)
)

// HasNext reports whether an entry remains, reading shards until one has
// live entries. A shard that cannot be read is left out.
func (s *dirStream) HasNext() bool {
	if s.special < 2 {
		return true
	}
	for s.pos >= len(s.batch) {
		if s.next >= s.root.dir.Layout().Count() {
			s.batch, s.pos = nil, 0
			return false
		}
		batch, err := s.root.dir.Entries(s.next)
		if err != nil {
			s.root.logf("bucketfs: listing: %v", err)
		}
		s.next++
		s.batch, s.pos = batch, 0
	}
	return true
}

// Next returns the next entry; HasNext must have returned true.
func (s *dirStream) Next() (fuse.DirEntry, syscall.Errno) {
	s.off++
	if s.special < 2 {
		s.special++
		name := "."
		if s.special == 2 {
			name = ".."
		}
		return fuse.DirEntry{Name: name, Mode: syscall.S_IFDIR, Ino: 1, Off: s.off}, 0
	}
	e := s.batch[s.pos]
	s.batch[s.pos] = view.Entry{} // let the key go
	s.pos++
	return fuse.DirEntry{Name: e.Name, Mode: syscall.S_IFREG, Ino: e.Hash, Off: s.off}, 0
}

// Seekdir restarts the listing and skips to offset off.
func (s *dirStream) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	*s = dirStream{root: s.root}
	for s.off < off && s.HasNext() {
		s.Next()
	}
	return 0
}

// Close drops the current batch.
func (s *dirStream) Close() { s.batch, s.pos, s.next = nil, 0, s.root.dir.Layout().Count() }
