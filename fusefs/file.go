//go:build linux

package fusefs

import (
	"bytes"
	"context"
	"io"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/bucketcache/bucketcache/internal/view"
	"github.com/bucketcache/bucketcache/shard"
)

// file is one entry's file. Its identity is the key hash that names the
// entry file; replacing the entry keeps the node and changes its content.
type file struct {
	fs.Inode
	root *root
	hash uint64
	key  []byte // the key this node shows; immutable

	mu     sync.Mutex
	known  bool       // guarded by mu
	entry  view.Entry // guarded by mu: the last version described
	size   int64      // guarded by mu: its content size
	expiry int64      // guarded by mu: its stored expiry
}

var (
	_ fs.NodeGetattrer     = (*file)(nil)
	_ fs.NodeOpener        = (*file)(nil)
	_ fs.NodeReader        = (*file)(nil)
	_ fs.NodeReleaser      = (*file)(nil)
	_ fs.NodeGetxattrer    = (*file)(nil)
	_ fs.NodeListxattrer   = (*file)(nil)
	_ fs.NodeSetattrer     = (*file)(nil)
	_ fs.NodeWriter        = (*file)(nil)
	_ fs.NodeSetxattrer    = (*file)(nil)
	_ fs.NodeRemovexattrer = (*file)(nil)
	_ fs.NodeAllocater     = (*file)(nil)
)

// describe returns the current version of the entry and its content size.
// A stat of the entry file decides whether the remembered description still
// holds, so a stat through the mount costs one fstatat while the entry is
// unchanged, and decoding happens once per version.
func (n *file) describe() (view.Entry, int64, syscall.Errno) {
	dir := n.root.dir
	id, err := dir.StatID(n.hash)
	if err != nil {
		return view.Entry{}, 0, syscall.ENOENT
	}
	now := dir.Now().UnixNano()
	n.mu.Lock()
	if n.known && n.entry.ID == id {
		e, size, exp := n.entry, n.size, n.expiry
		n.mu.Unlock()
		if exp != 0 && now > exp {
			return view.Entry{}, 0, syscall.ENOENT
		}
		return e, size, 0
	}
	n.mu.Unlock()
	e, size, err := dir.Describe(n.hash, n.key)
	if err != nil {
		return view.Entry{}, 0, n.root.errno(err, syscall.ENOENT)
	}
	n.mu.Lock()
	n.known, n.entry, n.size, n.expiry = true, e, size, e.Header.ExpiresAt
	n.mu.Unlock()
	return e, size, 0
}

func (n *file) getattr(out *fuse.Attr) syscall.Errno {
	e, size, errno := n.describe()
	if errno != 0 {
		return errno
	}
	fillAttr(out, &e, size)
	return 0
}

func fillAttr(out *fuse.Attr, e *view.Entry, size int64) {
	out.Mode = syscall.S_IFREG | e.Perm&0o444
	out.Size = uint64(size)
	out.Blocks = (uint64(size) + 511) / 512
	out.Nlink = 1
	out.Uid, out.Gid = e.UID, e.GID
	out.Ino = e.Hash
	w := e.Header.WrittenAt
	sec, nsec := uint64(w/1e9), uint32(w%1e9)
	if w < 0 {
		sec, nsec = 0, 0
	}
	out.Mtime, out.Mtimensec = sec, nsec
	out.Atime, out.Atimensec = sec, nsec
	out.Ctime, out.Ctimensec = sec, nsec
}

// Getattr reads the entry file's header (no attribute is cached by the
// kernel). An entry deleted while this file is open still answers fstat
// with the open snapshot's attributes.
func (n *file) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	errno := n.getattr(&out.Attr)
	if errno == syscall.ENOENT {
		if h, ok := f.(*handle); ok {
			fillAttr(&out.Attr, &h.c.Entry, h.c.Size())
			return 0
		}
	}
	return errno
}

// Open takes a verified snapshot of the entry's content. Opening for
// writing fails with EROFS.
func (n *file) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY || flags&syscall.O_TRUNC != 0 {
		return nil, 0, syscall.EROFS
	}
	c, err := n.root.dir.OpenContent(n.hash, n.key)
	if err != nil {
		if shard.IsDamage(err) {
			n.root.logf("bucketfs: %s: %v", n.root.dir.Layout().EntryPath(n.hash), err)
		}
		return nil, 0, n.root.errno(err, syscall.EIO)
	}
	return &handle{c: c}, fuse.FOPEN_DIRECT_IO, 0
}

// handle is an open file: a snapshot of one version's content.
type handle struct {
	c *view.Content
}

// Read reads the snapshot at off.
func (n *file) Read(ctx context.Context, f fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	h, ok := f.(*handle)
	if !ok {
		return nil, syscall.EBADF
	}
	m, err := h.c.ReadAt(dest, off)
	if err != nil && err != io.EOF {
		n.root.logf("bucketfs: reading %s: %v", h.c.Path, err)
		return nil, syscall.EIO
	}
	return fuse.ReadResultData(dest[:m]), 0
}

// Release closes the snapshot.
func (n *file) Release(ctx context.Context, f fs.FileHandle) syscall.Errno {
	if h, ok := f.(*handle); ok {
		h.c.Close()
	}
	return 0
}

// Getxattr gives one item of the entry's metadata (see view.Entry.Xattrs).
func (n *file) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	e, _, errno := n.describe()
	if errno != 0 {
		return 0, errno
	}
	v, ok := e.Xattr(attr)
	if !ok {
		return 0, syscall.ENODATA
	}
	if len(dest) < len(v) {
		return uint32(len(v)), syscall.ERANGE
	}
	return uint32(copy(dest, v)), 0
}

// Listxattr lists the metadata attributes every entry has.
func (n *file) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	e, _, errno := n.describe()
	if errno != 0 {
		return 0, errno
	}
	var b bytes.Buffer
	for _, x := range e.Xattrs() {
		b.WriteString(x.Name)
		b.WriteByte(0)
	}
	if len(dest) < b.Len() {
		return uint32(b.Len()), syscall.ERANGE
	}
	return uint32(copy(dest, b.Bytes())), 0
}

// The operations that would change the file all fail with EROFS.

func (n *file) Setattr(context.Context, fs.FileHandle, *fuse.SetAttrIn, *fuse.AttrOut) syscall.Errno {
	return syscall.EROFS
}
func (n *file) Write(context.Context, fs.FileHandle, []byte, int64) (uint32, syscall.Errno) {
	return 0, syscall.EROFS
}
func (n *file) Setxattr(context.Context, string, []byte, uint32) syscall.Errno { return syscall.EROFS }
func (n *file) Removexattr(context.Context, string) syscall.Errno              { return syscall.EROFS }
func (n *file) Allocate(context.Context, fs.FileHandle, uint64, uint64, uint32) syscall.Errno {
	return syscall.EROFS
}
