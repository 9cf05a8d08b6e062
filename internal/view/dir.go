package view

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/bucketcache/bucketcache/internal/fsx"
	"github.com/bucketcache/bucketcache/internal/posix"
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
	sound  checked // versions of entry files found sound in full
}

// checked remembers versions of entry files that were read in full and
// found sound. Entry files are never changed in place (a write renames a new
// file over the old), and a file changed in place anyway gets a new
// modification time, so a version found sound stays sound. It forgets
// everything when it grows past its bound.
type checked struct {
	mu  sync.Mutex
	ids map[fsx.FileID]struct{} // guarded by mu
}

const checkedMax = 1 << 16

func (c *checked) has(id fsx.FileID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.ids[id]
	return ok
}

func (c *checked) add(id fsx.FileID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil || len(c.ids) >= checkedMax {
		c.ids = make(map[fsx.FileID]struct{})
	}
	c.ids[id] = struct{}{}
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
		return nil, fmt.Errorf("bucket directory %s: %w", abs, posix.ENOTDIR)
	}
	layout, err := shard.Read(abs)
	if err != nil {
		return nil, err // names the path
	}
	root, err := posix.Open(abs, posix.O_RDONLY|posix.O_DIRECTORY|posix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: abs, Err: err}
	}
	return &Dir{path: abs, root: root, layout: layout, now: opts.Now}, nil
}

// Close releases the directory's descriptor.
func (d *Dir) Close() error { return posix.Close(d.root) }

// Path is the bucket directory's absolute path.
func (d *Dir) Path() string { return d.path }

// Layout is the bucket's shard layout.
func (d *Dir) Layout() shard.Layout { return d.layout }

// Now is the Dir's clock.
func (d *Dir) Now() time.Time { return d.now() }

// RootFD is the descriptor of the bucket directory, valid until Close.
func (d *Dir) RootFD() int { return d.root }

// FileID identifies one version of an entry file.
type FileID = fsx.FileID

// Entry is one sound entry file: header, key (against its file name) and
// body checksum checked.
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
	Damaged               // an entry file whose header, size, body or key is wrong, or a symlink in its place
	Temp                  // a temporary file: an entry being written, or abandoned by a crash
	Foreign               // in an entry's place, something not the format's (see shard.Reason.Foreign)
)

// File is one file Scan found.
type File struct {
	Entry         // Name, Hash, Key and Header are set for Live and Expired
	Status Status //
	Reason shard.Reason
	Size   int64 // size on disk
}

// Scan calls fn for every entry file and temporary file in shard i, until fn
// returns false. It holds one shard's file names in memory at a time. A
// shard never written to has no directory and no files; a shard directory
// that is a symbolic link is an error, never followed.
//
// What Scan calls Live is exactly what Lookup finds and OpenContent opens:
// every entry file is checked in full, body checksum included, so that no
// surface lists an entry it cannot show. The check streams through the file
// and holds no value in memory; a Dir remembers the versions of files it
// has checked (by FileID: every write brings a new one), so listing again
// costs an open and a header read per entry.
func (d *Dir) Scan(i int, fn func(f *File) bool) error { return d.scan(i, false, fn) }

// Verify is Scan, but checks every file afresh, trusting nothing it
// remembers.
func (d *Dir) Verify(i int, fn func(f *File) bool) error { return d.scan(i, true, fn) }

func (d *Dir) scan(i int, afresh bool, fn func(f *File) bool) error {
	dirName := d.layout.DirName(i)
	dirfd, err := fsx.OpenBeneath(d.root, dirName, posix.O_RDONLY|posix.O_DIRECTORY, 0)
	if err != nil {
		if err == posix.ENOENT {
			return nil
		}
		if fsx.IsLink(err) {
			return fmt.Errorf("%s: shard directory is a symbolic link; not followed", filepath.Join(d.path, dirName))
		}
		return &fs.PathError{Op: "open", Path: filepath.Join(d.path, dirName), Err: err}
	}
	defer posix.Close(dirfd)
	names, err := fsx.ReadDirNames(dirfd)
	if err != nil {
		return &fs.PathError{Op: "readdir", Path: filepath.Join(d.path, dirName), Err: err}
	}
	now := d.now()
	for _, name := range names {
		f := File{Entry: Entry{Path: dirName + "/" + name}}
		if shard.IsTempName(name) {
			var st posix.Stat_t
			if posix.Fstatat(dirfd, name, &st, posix.AT_SYMLINK_NOFOLLOW) != nil {
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
		fd, err := posix.Openat(dirfd, name, posix.O_RDONLY|posix.O_NONBLOCK|posix.O_NOFOLLOW|posix.O_CLOEXEC, 0)
		switch {
		case err == nil:
			e, size, ierr := d.inspect(fd, h, i, true, afresh)
			posix.Close(fd)
			f.Size = size
			switch r := shard.ReasonOf(ierr); {
			case ierr == nil:
				e.Path = f.Path
				f.Entry = e
				f.Status = Live
				if e.Header.Expired(now) {
					f.Status = Expired
				}
			case r.Foreign():
				f.Status, f.Reason = Foreign, r
			case r != "":
				f.Status, f.Reason = Damaged, r
			default:
				continue // unreadable: neither shown nor judged
			}
		case err == posix.ELOOP:
			f.Status, f.Reason = Damaged, shard.ReasonSymlink
		default:
			continue // vanished since the listing
		}
		if !fn(&f) {
			return nil
		}
	}
	return nil
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

// Stat returns the entry in the file for hash h, live or expired, checked in
// full as Scan checks it. A missing file is ErrNotFound; a damaged or
// foreign one an error for which shard.IsDamage is true.
func (d *Dir) Stat(h uint64) (Entry, error) {
	rel := d.layout.EntryPath(h)
	fd, err := fsx.OpenBeneath(d.root, rel, posix.O_RDONLY|posix.O_NONBLOCK|posix.O_NOFOLLOW, 0)
	switch {
	case err == nil:
	case fsx.IsMissing(err):
		return Entry{}, ErrNotFound
	case fsx.IsLink(err):
		return Entry{}, shard.Damage(shard.ReasonSymlink)
	default:
		return Entry{}, &fs.PathError{Op: "open", Path: filepath.Join(d.path, rel), Err: err}
	}
	defer posix.Close(fd)
	e, _, err := d.inspect(fd, h, d.layout.Index(h), true, false)
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

// inspect reads the entry file open as fd, whose name says its key hashes
// to h, in shard i, with shard.ReadEntry: the header and key, and with full
// the body checksum too (skipped for a version of the file this Dir has
// checked before, unless afresh). It returns the file's size. Damage is a
// *shard.DamageError.
func (d *Dir) inspect(fd int, h uint64, i int, full, afresh bool) (Entry, int64, error) {
	var st posix.Stat_t
	if err := posix.Fstat(fd, &st); err != nil {
		return Entry{}, 0, err
	}
	if st.Mode&posix.S_IFMT != posix.S_IFREG {
		return Entry{}, st.Size, shard.Damage(shard.ReasonNotRegular)
	}
	id := fsx.IDOf(&st)
	depth := shard.Head
	if full && (afresh || !d.sound.has(id)) {
		depth = shard.Checked
	}
	e, err := shard.ReadEntry(fsx.File(fd), st.Size, depth, nil)
	if err == nil {
		err = d.layout.CheckPlace(i, h, e.Key)
	}
	if err != nil {
		return Entry{}, st.Size, err
	}
	if depth == shard.Checked {
		d.sound.add(id)
	}
	return entryOf(e, h, &st), st.Size, nil
}

// entryOf is the view of the sound entry e, read from the file st describes,
// whose name says its key hashes to h.
func entryOf(e shard.Entry, h uint64, st *posix.Stat_t) Entry {
	return Entry{
		Name:   Name(e.Key),
		Hash:   h,
		Key:    e.Key,
		Header: e.Header,
		ID:     fsx.IDOf(st),
		Perm:   uint32(st.Mode) & 0o777,
		UID:    st.Uid,
		GID:    st.Gid,
	}
}

// StatID returns the identity of the file now at the entry path for hash h,
// without opening it, for cheap revalidation of something already read
// through OpenContent or Stat. It does not follow a symlink in the entry's
// place.
func (d *Dir) StatID(h uint64) (FileID, error) {
	var st posix.Stat_t
	if err := posix.Fstatat(d.root, d.layout.EntryPath(h), &st, posix.AT_SYMLINK_NOFOLLOW); err != nil {
		return FileID{}, err
	}
	if st.Mode&posix.S_IFMT != posix.S_IFREG {
		return FileID{}, posix.EINVAL
	}
	return fsx.IDOf(&st), nil
}

// missingError is an error that wraps fs.ErrNotExist without repeating it.
type missingError string

func (e missingError) Error() string        { return string(e) }
func (e missingError) Is(target error) bool { return target == fs.ErrNotExist }
