package view

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bucketcache/bucketcache/shard"
)

// ErrNotFound reports a name or hash that shows no live entry: there is no
// such file, it is damaged, or it has expired.
var ErrNotFound = errors.New("no such entry")

// Options configure a Dir. The zero value is ready to use.
type Options struct {
	// Now is the clock that decides expiry. nil: time.Now.
	Now func() time.Time
}

// Dir is a bucket directory opened for viewing. It never writes to the
// directory. Its methods are safe for concurrent use.
type Dir struct {
	path   string
	root   int // descriptor of the bucket directory
	layout shard.Layout
	now    func() time.Time
}

// Open opens the bucket directory dir for viewing. It fails, naming the
// path, when dir does not exist (wrapping fs.ErrNotExist), is not a
// directory, or is not a bucket (wrapping shard.ErrNotBucket); it never
// creates anything.
func Open(dir string, opts Options) (*Dir, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("bucket directory %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, missingError("bucket directory " + abs + " does not exist")
	case err != nil:
		return nil, fmt.Errorf("bucket directory %s: %w", abs, err)
	case !fi.IsDir():
		return nil, fmt.Errorf("bucket directory %s: %w", abs, unix.ENOTDIR)
	}
	layout, err := shard.Read(abs)
	if err != nil {
		return nil, err // names the path
	}
	root, err := unix.Open(abs, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: abs, Err: err}
	}
	return &Dir{path: abs, root: root, layout: layout, now: opts.Now}, nil
}

// Close releases the directory's descriptor.
func (d *Dir) Close() error { return unix.Close(d.root) }

// Path is the bucket directory's absolute path.
func (d *Dir) Path() string { return d.path }

// Layout is the bucket's shard layout.
func (d *Dir) Layout() shard.Layout { return d.layout }

// Now is the Dir's clock.
func (d *Dir) Now() time.Time { return d.now() }

// RootFD is the descriptor of the bucket directory, valid until Close.
func (d *Dir) RootFD() int { return d.root }

// FileID identifies one version of an entry file: every write renames a new
// file into place, which brings a new inode.
type FileID struct {
	Ino   uint64
	Size  int64
	Mtime int64 // Unix nanoseconds
}

// Entry is one well-formed entry file, its header and key checked against
// its file name (the body checksum is checked only by OpenContent).
type Entry struct {
	Name   string // the name the view shows
	Hash   uint64 // the key's hash, which names the file
	Key    []byte // the canonical key bytes, as stored
	Header shard.Header
	Path   string // the file's path relative to the bucket directory
	ID     FileID
	Perm   uint32 // the file's permission bits
	UID    uint32
	GID    uint32
}

// WrittenAt is when the entry was written.
func (e *Entry) WrittenAt() time.Time { return time.Unix(0, e.Header.WrittenAt) }

// ExpiresAt is when the entry expires; the zero Time means never.
func (e *Entry) ExpiresAt() time.Time {
	if e.Header.ExpiresAt == 0 {
		return time.Time{}
	}
	return time.Unix(0, e.Header.ExpiresAt)
}

// Status classifies a file found in a shard directory.
type Status int

// The kinds of files Scan reports.
const (
	Live    Status = iota // a well-formed, unexpired entry
	Expired               // a well-formed entry whose stored expiry has passed
	Damaged               // an entry file whose header, size or key is wrong, or a non-file in its place
	Temp                  // a temporary file: an entry being written, or abandoned by a crash
)

// File is one file Scan found.
type File struct {
	Entry         // Name, Hash, Key and Header are set for Live and Expired
	Status Status //
	Reason shard.Reason
	Size   int64 // size on disk
}

// Scan calls fn for every entry file and temporary file in shard i, reading
// headers and keys only, until fn returns false. It holds one shard's file
// names in memory at a time. A shard never written to has no directory and
// no files; a shard directory that is a symbolic link is an error, never
// followed.
func (d *Dir) Scan(i int, fn func(f *File) bool) error { return d.scan(i, false, fn) }

// Verify is Scan, but reads every entry file in full: an entry whose body
// checksum is wrong is reported Damaged (with shard.ReasonBodySum). It
// streams through each file, holding no value in memory.
func (d *Dir) Verify(i int, fn func(f *File) bool) error { return d.scan(i, true, fn) }

func (d *Dir) scan(i int, full bool, fn func(f *File) bool) error {
	dirName := d.layout.DirName(i)
	dirfd, err := openBeneath(d.root, dirName, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		if err == unix.ENOENT {
			return nil
		}
		if isLink(err) {
			return fmt.Errorf("%s: shard directory is a symbolic link; not followed", filepath.Join(d.path, dirName))
		}
		return &fs.PathError{Op: "open", Path: filepath.Join(d.path, dirName), Err: err}
	}
	defer unix.Close(dirfd)
	names, err := readDirNames(dirfd)
	if err != nil {
		return &fs.PathError{Op: "readdir", Path: filepath.Join(d.path, dirName), Err: err}
	}
	now := d.now()
	for _, name := range names {
		f := File{Entry: Entry{Path: dirName + "/" + name}}
		if shard.IsTempName(name) {
			var st unix.Stat_t
			if unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
				continue
			}
			f.Status, f.Size = Temp, st.Size
			if !fn(&f) {
				return nil
			}
			continue
		}
		h, ok := shard.ParseEntryName(name)
		if !ok {
			continue // the lock file, key locks, or something a person put here
		}
		fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		switch {
		case err == nil:
			e, size, ierr := d.inspect(fd, h, i)
			if ierr == nil && full {
				ierr = verifyBody(fd, e.Header, size)
			}
			unix.Close(fd)
			f.Size = size
			switch {
			case ierr == nil:
				e.Path = f.Path
				f.Entry = e
				f.Status = Live
				if e.Header.Expired(now) {
					f.Status = Expired
				}
			case shard.IsDamage(ierr):
				f.Status, f.Reason = Damaged, reasonOf(ierr)
			default:
				continue // unreadable: neither shown nor judged
			}
		case err == unix.ELOOP:
			f.Status, f.Reason = Damaged, shard.ReasonNotRegular
		default:
			continue // vanished since the listing
		}
		if !fn(&f) {
			return nil
		}
	}
	return nil
}

func reasonOf(err error) shard.Reason {
	var d *shard.DamageError
	if errors.As(err, &d) {
		return d.Reason
	}
	return ""
}

// Entries returns the live entries of shard i.
func (d *Dir) Entries(i int) ([]Entry, error) {
	var out []Entry
	err := d.Scan(i, func(f *File) bool {
		if f.Status == Live {
			out = append(out, f.Entry)
		}
		return true
	})
	return out, err
}

// Stat returns the entry in the file for hash h, live or expired, with its
// header and key checked. A missing file is ErrNotFound; a damaged one an
// error for which shard.IsDamage is true.
func (d *Dir) Stat(h uint64) (Entry, error) {
	rel := d.layout.EntryPath(h)
	fd, err := openBeneath(d.root, rel, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW)
	switch {
	case err == nil:
	case isMissing(err):
		return Entry{}, ErrNotFound
	case isLink(err):
		return Entry{}, shard.Damage(shard.ReasonNotRegular)
	default:
		return Entry{}, &fs.PathError{Op: "open", Path: filepath.Join(d.path, rel), Err: err}
	}
	defer unix.Close(fd)
	e, _, err := d.inspect(fd, h, d.layout.Index(h))
	if err != nil && !shard.IsDamage(err) {
		err = &fs.PathError{Op: "read", Path: filepath.Join(d.path, rel), Err: err}
	}
	e.Path = rel
	return e, err
}

// Lookup returns the live entry that the view shows under name, or
// ErrNotFound. It reads one file: names are decoded, never searched for.
func (d *Dir) Lookup(name string) (Entry, error) {
	p, ok := ParseName(name)
	if !ok {
		return Entry{}, ErrNotFound
	}
	e, err := d.Stat(p.Hash)
	if shard.IsDamage(err) {
		return Entry{}, ErrNotFound
	}
	if err != nil {
		return Entry{}, err
	}
	if p.Short && e.Name != name || !p.Short && !bytes.Equal(e.Key, p.Key) {
		return Entry{}, ErrNotFound
	}
	if e.Header.Expired(d.now()) {
		return Entry{}, ErrNotFound
	}
	return e, nil
}

// headerRead is how much of a file inspect reads at first: the header, the
// codec name and, usually, the key.
const headerRead = 4096

// inspect reads and checks the header and key of the entry file open as fd,
// whose name says its key hashes to h, in shard i. It returns the file's
// size. Damage is a *shard.DamageError.
func (d *Dir) inspect(fd int, h uint64, i int) (Entry, int64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return Entry{}, 0, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return Entry{}, st.Size, shard.Damage(shard.ReasonNotRegular)
	}
	buf := make([]byte, min(st.Size, headerRead))
	n, err := pread(fd, buf, 0)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return Entry{}, st.Size, err
	}
	buf = buf[:n]
	hdr, err := shard.ParseHeader(buf)
	if err != nil {
		return Entry{}, st.Size, err
	}
	if hdr.Size() != st.Size {
		if hdr.Size() > st.Size {
			return Entry{}, st.Size, shard.Damage(shard.ReasonShort)
		}
		return Entry{}, st.Size, shard.Damage(shard.ReasonLong)
	}
	var key []byte
	if ko, vo := hdr.KeyOffset(), hdr.ValueOffset(); vo <= int64(len(buf)) {
		key = bytes.Clone(buf[ko:vo])
	} else {
		key = make([]byte, hdr.KeyLen)
		if _, err := pread(fd, key, ko); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return Entry{}, st.Size, shard.Damage(shard.ReasonShort)
			}
			return Entry{}, st.Size, err
		}
	}
	if kh := shard.Hash(key); kh != h || d.layout.Index(kh) != i {
		return Entry{}, st.Size, shard.Damage(shard.ReasonKey) // misplaced: no reader can find it
	}
	return Entry{
		Name:   Name(key),
		Hash:   h,
		Key:    key,
		Header: hdr,
		ID:     FileID{Ino: st.Ino, Size: st.Size, Mtime: st.Mtim.Nano()},
		Perm:   st.Mode & 0o777,
		UID:    st.Uid,
		GID:    st.Gid,
	}, st.Size, nil
}

// StatID returns the identity of the file now at the entry path for hash h,
// without opening it, for cheap revalidation of something already read
// through OpenContent or Stat. It does not follow a symlink in the entry's
// place.
func (d *Dir) StatID(h uint64) (FileID, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(d.root, d.layout.EntryPath(h), &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return FileID{}, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return FileID{}, unix.EINVAL
	}
	return FileID{Ino: st.Ino, Size: st.Size, Mtime: st.Mtim.Nano()}, nil
}

// missingError is an error that wraps fs.ErrNotExist without repeating it.
type missingError string

func (e missingError) Error() string        { return string(e) }
func (e missingError) Is(target error) bool { return target == fs.ErrNotExist }
