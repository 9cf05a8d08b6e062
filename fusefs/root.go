//go:build linux

package fusefs

import (
	"context"
	"errors"
	"log"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/bucketcache/bucketcache/internal/view"
	"github.com/bucketcache/bucketcache/shard"
)

// root is the filesystem's only directory.
type root struct {
	fs.Inode
	dir    *view.Dir
	logger *log.Logger // nil: quiet
}

// NewRoot returns the root node of a read-only view of dir, for mounting
// with go-fuse (fs.Mount). Mount it with the options Mount uses (see
// NodeOptions) to keep the promises of the package documentation.
func NewRoot(dir *view.Dir, logger *log.Logger) fs.InodeEmbedder {
	return &root{dir: dir, logger: logger}
}

var (
	_ fs.NodeLookuper   = (*root)(nil)
	_ fs.NodeReaddirer  = (*root)(nil)
	_ fs.NodeGetattrer  = (*root)(nil)
	_ fs.NodeStatfser   = (*root)(nil)
	_ fs.NodeCreater    = (*root)(nil)
	_ fs.NodeMkdirer    = (*root)(nil)
	_ fs.NodeMknoder    = (*root)(nil)
	_ fs.NodeUnlinker   = (*root)(nil)
	_ fs.NodeRmdirer    = (*root)(nil)
	_ fs.NodeRenamer    = (*root)(nil)
	_ fs.NodeSymlinker  = (*root)(nil)
	_ fs.NodeLinker     = (*root)(nil)
	_ fs.NodeSetattrer  = (*root)(nil)
	_ fs.NodeSetxattrer = (*root)(nil)
	_ fs.NodeTmpfiler   = (*root)(nil)
)

func (r *root) logf(format string, args ...any) {
	if r.logger != nil {
		r.logger.Printf(format, args...)
	}
}

// Lookup finds the entry named name by decoding the name: it reads one
// entry file, never the directory.
func (r *root) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	p, ok := view.ParseName(name)
	if !ok {
		return nil, syscall.ENOENT
	}
	key := p.Key
	if p.Short {
		e, err := r.dir.Stat(p.Hash)
		if err != nil || e.Name != name {
			return nil, r.errno(err, syscall.ENOENT)
		}
		key = e.Key
	}
	n := &file{root: r, hash: p.Hash, key: key}
	if errno := n.getattr(&out.Attr); errno != 0 {
		return nil, errno
	}
	return r.NewInode(ctx, n, fs.StableAttr{Mode: syscall.S_IFREG, Ino: p.Hash}), 0
}

// errno maps an error from package view to what the kernel is told:
// absence and damage are fallback (ENOENT, or EIO for content), anything
// else is logged and EIO.
func (r *root) errno(err error, fallback syscall.Errno) syscall.Errno {
	switch {
	case err == nil:
		return fallback
	case errors.Is(err, view.ErrNotFound):
		return syscall.ENOENT
	case shard.IsDamage(err):
		return fallback
	}
	var en syscall.Errno
	if errors.As(err, &en) && en == syscall.ENOENT {
		return syscall.ENOENT
	}
	r.logf("bucketfs: %v", err)
	return syscall.EIO
}

// Readdir lists the live entries, computed afresh and streamed one shard at
// a time.
func (r *root) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	return &dirStream{root: r}, 0
}

// Getattr describes the directory: the bucket directory's owner, times and
// permissions, without write permission. The kernel may keep them for
// EntryTimeout (nothing depends on them being fresh), which saves a round
// trip on every path lookup through the mount.
func (r *root) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.SetTimeout(EntryTimeout)
	var st unix.Stat_t
	if err := unix.Fstat(r.dir.RootFD(), &st); err != nil {
		return fs.ToErrno(err)
	}
	out.Mode = syscall.S_IFDIR | st.Mode&0o555
	out.Nlink = 2
	out.Uid, out.Gid = st.Uid, st.Gid
	out.Mtime, out.Mtimensec = uint64(st.Mtim.Sec), uint32(st.Mtim.Nsec)
	out.Atime, out.Atimensec = uint64(st.Atim.Sec), uint32(st.Atim.Nsec)
	out.Ctime, out.Ctimensec = uint64(st.Ctim.Sec), uint32(st.Ctim.Nsec)
	return 0
}

// Statfs reports the filesystem that holds the bucket directory.
func (r *root) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	var st unix.Statfs_t
	if err := unix.Fstatfs(r.dir.RootFD(), &st); err != nil {
		return fs.ToErrno(err)
	}
	out.Blocks, out.Bfree, out.Bavail = st.Blocks, st.Bfree, st.Bavail
	out.Files, out.Ffree = st.Files, st.Ffree
	out.Bsize, out.Frsize = uint32(st.Bsize), uint32(st.Frsize)
	out.NameLen = view.MaxName
	return 0
}

// The operations that would change the filesystem all fail with EROFS.

func (r *root) Create(context.Context, string, uint32, uint32, *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EROFS
}
func (r *root) Tmpfile(context.Context, uint32, uint32, *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EROFS
}
func (r *root) Mkdir(context.Context, string, uint32, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}
func (r *root) Mknod(context.Context, string, uint32, uint32, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}
func (r *root) Unlink(context.Context, string) syscall.Errno { return syscall.EROFS }
func (r *root) Rmdir(context.Context, string) syscall.Errno  { return syscall.EROFS }
func (r *root) Rename(context.Context, string, fs.InodeEmbedder, string, uint32) syscall.Errno {
	return syscall.EROFS
}
func (r *root) Symlink(context.Context, string, string, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}
func (r *root) Link(context.Context, fs.InodeEmbedder, string, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}
func (r *root) Setattr(context.Context, fs.FileHandle, *fuse.SetAttrIn, *fuse.AttrOut) syscall.Errno {
	return syscall.EROFS
}
func (r *root) Setxattr(context.Context, string, []byte, uint32) syscall.Errno { return syscall.EROFS }
