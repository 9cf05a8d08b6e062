package posix

import (
	"bytes"
	"errors"
	"path/filepath"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Open flags, as on Linux; the Windows calls below read them.
const (
	O_RDONLY    = 0x0
	O_WRONLY    = 0x1
	O_RDWR      = 0x2
	O_CREAT     = 0x40
	O_EXCL      = 0x80
	O_NONBLOCK  = 0x800
	O_DIRECTORY = 0x10000
	O_NOFOLLOW  = 0x20000
	O_CLOEXEC   = 0x80000

	AT_FDCWD            = -100
	AT_SYMLINK_NOFOLLOW = 0x100
	AT_REMOVEDIR        = 0x200

	S_IFMT  = 0xf000
	S_IFDIR = 0x4000
	S_IFREG = 0x8000
	S_IFLNK = 0xa000

	LOCK_EX = 0x2
	LOCK_NB = 0x4
	LOCK_UN = 0x8

	UTIME_OMIT = (1 << 30) - 2
)

// The errors, as the syscall package names them on Windows: errors.Is
// matches ENOENT with fs.ErrNotExist and so on.
const (
	EAGAIN      = syscall.EAGAIN
	EBADF       = syscall.EBADF
	EEXIST      = syscall.EEXIST
	EINTR       = syscall.EINTR
	EINVAL      = syscall.EINVAL
	EISDIR      = syscall.EISDIR
	ELOOP       = syscall.ELOOP
	ENOENT      = syscall.ENOENT
	ENOSYS      = syscall.ENOSYS
	ENOTDIR     = syscall.ENOTDIR
	ESTALE      = syscall.ESTALE
	EWOULDBLOCK = syscall.EWOULDBLOCK
	EXDEV       = syscall.EXDEV
)

// Timespec is a time in seconds and nanoseconds since the Unix epoch.
type Timespec struct{ Sec, Nsec int64 }

// Nano is the time in nanoseconds since the Unix epoch.
func (ts *Timespec) Nano() int64 { return ts.Sec*1e9 + ts.Nsec }

// NsecToTimespec converts nanoseconds since the Unix epoch.
func NsecToTimespec(nsec int64) Timespec { return Timespec{Sec: nsec / 1e9, Nsec: nsec % 1e9} }

// Stat_t is what Fstat tells of a file: Dev is the volume's serial number,
// Ino the file index, Nlink 0 for a file whose removal is pending.
type Stat_t struct {
	Dev              uint64
	Ino              uint64
	Nlink            uint32
	Mode             uint32
	Uid, Gid         uint32
	Size             int64
	Atim, Mtim, Ctim Timespec
}

// Mkdev combines a device's numbers.
func Mkdev(major, minor uint32) uint64 { return uint64(major)<<32 | uint64(minor) }

// file is what a descriptor names.
type file struct {
	h    windows.Handle
	path string // absolute, for the *at calls and ReadDirNames
	dir  bool
}

var files = struct {
	sync.RWMutex
	m    map[int]*file
	next int
}{m: make(map[int]*file), next: 3}

func lookup(fd int) (*file, error) {
	files.RLock()
	f := files.m[fd]
	files.RUnlock()
	if f == nil {
		return nil, EBADF
	}
	return f, nil
}

// PathOf is the path the descriptor fd was opened by.
func PathOf(fd int) (string, error) {
	f, err := lookup(fd)
	if err != nil {
		return "", err
	}
	return f.path, nil
}

// resolve names path relative to the directory open as dirfd.
func resolve(dirfd int, path string) (string, error) {
	path = filepath.FromSlash(path)
	if dirfd == AT_FDCWD || filepath.IsAbs(path) {
		return filepath.Abs(path)
	}
	d, err := lookup(dirfd)
	if err != nil {
		return "", err
	}
	return filepath.Join(d.path, path), nil
}

// resolveUTF16 is resolve, in the form Windows calls take.
func resolveUTF16(dirfd int, path string) (*uint16, error) {
	p, err := resolve(dirfd, path)
	if err != nil {
		return nil, err
	}
	u, err := windows.UTF16PtrFromString(p)
	if err != nil {
		return nil, EINVAL
	}
	return u, nil
}

// errno turns the errors of Windows calls into the ones the callers test.
func errno(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, windows.ERROR_FILE_NOT_FOUND), errors.Is(err, windows.ERROR_PATH_NOT_FOUND),
		errors.Is(err, windows.ERROR_INVALID_NAME):
		return ENOENT
	case errors.Is(err, windows.ERROR_FILE_EXISTS), errors.Is(err, windows.ERROR_ALREADY_EXISTS):
		return EEXIST
	case errors.Is(err, windows.ERROR_DIRECTORY):
		return ENOTDIR
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION), errors.Is(err, windows.ERROR_IO_PENDING):
		return EWOULDBLOCK
	case errors.Is(err, windows.ERROR_CANT_RESOLVE_FILENAME):
		return ELOOP
	}
	return err
}

// open opens path with the given access; flags are the O_ flags.
func open(path string, access uint32, flags int) (windows.Handle, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return windows.InvalidHandle, EINVAL
	}
	create := uint32(windows.OPEN_EXISTING)
	switch {
	case flags&O_CREAT != 0 && flags&O_EXCL != 0:
		create = windows.CREATE_NEW
	case flags&O_CREAT != 0:
		create = windows.OPEN_ALWAYS
	}
	attrs := uint32(windows.FILE_ATTRIBUTE_NORMAL | windows.FILE_FLAG_BACKUP_SEMANTICS)
	if flags&O_NOFOLLOW != 0 {
		attrs |= windows.FILE_FLAG_OPEN_REPARSE_POINT
	}
	share := uint32(windows.FILE_SHARE_READ | windows.FILE_SHARE_WRITE | windows.FILE_SHARE_DELETE)
	h, err := windows.CreateFile(p, access, share, nil, create, attrs, 0)
	return h, errno(err)
}

// Open opens path.
func Open(path string, flags int, perm uint32) (int, error) {
	return Openat(AT_FDCWD, path, flags, perm)
}

// Openat opens path relative to the directory open as dirfd. O_NOFOLLOW
// refuses any reparse point (symbolic link, junction) at the last
// component with ELOOP; O_DIRECTORY refuses anything but a directory.
func Openat(dirfd int, path string, flags int, perm uint32) (int, error) {
	p, err := resolve(dirfd, path)
	if err != nil {
		return -1, err
	}
	access := uint32(windows.GENERIC_READ)
	switch flags & 3 {
	case O_WRONLY:
		access = windows.GENERIC_WRITE
	case O_RDWR:
		access = windows.GENERIC_READ | windows.GENERIC_WRITE
	}
	// Ask to set the file's times too (a read stamps the access time);
	// where that is refused, open without it.
	h, err := open(p, access|windows.FILE_WRITE_ATTRIBUTES, flags)
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		h, err = open(p, access, flags)
	}
	if err != nil {
		return -1, err
	}
	var d windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(h, &d); err != nil {
		windows.CloseHandle(h)
		return -1, errno(err)
	}
	dir := d.FileAttributes&windows.FILE_ATTRIBUTE_DIRECTORY != 0
	switch {
	case flags&O_NOFOLLOW != 0 && d.FileAttributes&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0:
		err = ELOOP
	case flags&O_DIRECTORY != 0 && !dir:
		err = ENOTDIR
	case dir && flags&3 != O_RDONLY:
		err = EISDIR
	}
	if err != nil {
		windows.CloseHandle(h)
		return -1, err
	}
	files.Lock()
	fd := files.next
	files.next++
	files.m[fd] = &file{h: h, path: p, dir: dir}
	files.Unlock()
	return fd, nil
}

// Close closes fd.
func Close(fd int) error {
	files.Lock()
	f := files.m[fd]
	delete(files.m, fd)
	files.Unlock()
	if f == nil {
		return EBADF
	}
	return errno(windows.CloseHandle(f.h))
}

func filetimeToTimespec(ft windows.Filetime) Timespec { return NsecToTimespec(ft.Nanoseconds()) }

// fileStandardInfo is FILE_STANDARD_INFO.
type fileStandardInfo struct {
	AllocationSize, EndOfFile int64
	NumberOfLinks             uint32
	DeletePending, Directory  bool
}

func statHandle(h windows.Handle, st *Stat_t) error {
	var d windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(h, &d); err != nil {
		return errno(err)
	}
	*st = Stat_t{
		Dev:   uint64(d.VolumeSerialNumber),
		Ino:   uint64(d.FileIndexHigh)<<32 | uint64(d.FileIndexLow),
		Nlink: d.NumberOfLinks,
		Size:  int64(d.FileSizeHigh)<<32 | int64(d.FileSizeLow),
		Atim:  filetimeToTimespec(d.LastAccessTime),
		Mtim:  filetimeToTimespec(d.LastWriteTime),
		Ctim:  filetimeToTimespec(d.CreationTime),
	}
	switch {
	case d.FileAttributes&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0:
		st.Mode = S_IFLNK | 0o777
	case d.FileAttributes&windows.FILE_ATTRIBUTE_DIRECTORY != 0:
		st.Mode = S_IFDIR | 0o777
	case d.FileAttributes&windows.FILE_ATTRIBUTE_READONLY != 0:
		st.Mode = S_IFREG | 0o444
	default:
		st.Mode = S_IFREG | 0o666
	}
	var si fileStandardInfo
	if windows.GetFileInformationByHandleEx(h, windows.FileStandardInfo, (*byte)(unsafe.Pointer(&si)), uint32(unsafe.Sizeof(si))) == nil && si.DeletePending {
		st.Nlink = 0 // removed while open: no name holds it
	}
	return nil
}

// Fstat describes the open file fd.
func Fstat(fd int, st *Stat_t) error {
	f, err := lookup(fd)
	if err != nil {
		return err
	}
	return statHandle(f.h, st)
}

// Fstatat describes path relative to dirfd, without following a final
// reparse point with AT_SYMLINK_NOFOLLOW; with AT_EMPTY_PATH and an empty
// path, dirfd itself.
func Fstatat(dirfd int, path string, st *Stat_t, flags int) error {
	if flags&AT_EMPTY_PATH != 0 && path == "" {
		return Fstat(dirfd, st)
	}
	h, err := openAttrs(dirfd, path, windows.FILE_READ_ATTRIBUTES, flags)
	if err != nil {
		return err
	}
	defer windows.CloseHandle(h)
	return statHandle(h, st)
}

// openAttrs opens path, relative to dirfd, for access to its attributes,
// without following a final reparse point when flags has
// AT_SYMLINK_NOFOLLOW.
func openAttrs(dirfd int, path string, access uint32, flags int) (windows.Handle, error) {
	p, err := resolve(dirfd, path)
	if err != nil {
		return 0, err
	}
	oflags := 0
	if flags&AT_SYMLINK_NOFOLLOW != 0 {
		oflags = O_NOFOLLOW
	}
	return open(p, access, oflags)
}

// Lstat describes path without following a final reparse point.
func Lstat(path string, st *Stat_t) error {
	return Fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW)
}

// Unlinkat removes path relative to dirfd: a directory with AT_REMOVEDIR.
// Files are opened with FILE_SHARE_DELETE, so an open file can be removed.
func Unlinkat(dirfd int, path string, flags int) error {
	u, err := resolveUTF16(dirfd, path)
	if err != nil {
		return err
	}
	if flags&AT_REMOVEDIR != 0 {
		return errno(windows.RemoveDirectory(u))
	}
	return errno(windows.DeleteFile(u))
}

// Unlink removes the file at path.
func Unlink(path string) error { return Unlinkat(AT_FDCWD, path, 0) }

// renameTimeout bounds how long Renameat retries a rename Windows refuses
// for a moment, as the Go build cache does: a reader that opened the target
// without FILE_SHARE_DELETE, an antivirus or indexing scanner.
const renameTimeout = 2 * time.Second

// Renameat renames oldpath to newpath, replacing what newpath names.
func Renameat(olddirfd int, oldpath string, newdirfd int, newpath string) error {
	f, err := resolveUTF16(olddirfd, oldpath)
	if err != nil {
		return err
	}
	t, err := resolveUTF16(newdirfd, newpath)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(renameTimeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		err := windows.MoveFileEx(f, t, windows.MOVEFILE_REPLACE_EXISTING)
		transient := errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_SHARING_VIOLATION)
		if !transient || time.Now().After(deadline) {
			return errno(err)
		}
		time.Sleep(wait)
	}
}

// Mkdirat makes the directory path relative to dirfd.
func Mkdirat(dirfd int, path string, mode uint32) error {
	u, err := resolveUTF16(dirfd, path)
	if err != nil {
		return err
	}
	return errno(windows.CreateDirectory(u, nil))
}

// Fsync flushes fd's data to the disk. A directory needs no flush: NTFS
// journals its names.
func Fsync(fd int) error {
	f, err := lookup(fd)
	if err != nil || f.dir {
		return err
	}
	return errno(windows.FlushFileBuffers(f.h))
}

// Write writes p at fd's file position.
func Write(fd int, p []byte) (int, error) {
	f, err := lookup(fd)
	if err != nil {
		return 0, err
	}
	var n uint32
	err = windows.WriteFile(f.h, p, &n, nil)
	return int(n), errno(err)
}

// Writev writes the pieces with one write of their concatenation.
func Writev(fd int, iovs [][]byte) (int, error) { return Write(fd, bytes.Join(iovs, nil)) }

// Pread reads from fd at offset; at the end of the file it returns 0.
func Pread(fd int, p []byte, offset int64) (int, error) {
	f, err := lookup(fd)
	if err != nil {
		return 0, err
	}
	o := windows.Overlapped{Offset: uint32(offset), OffsetHigh: uint32(offset >> 32)}
	var n uint32
	err = windows.ReadFile(f.h, p, &n, &o)
	if errors.Is(err, windows.ERROR_HANDLE_EOF) {
		return int(n), nil
	}
	return int(n), errno(err)
}

// Flock locks or unlocks fd's file: LockFileEx on its first byte, as
// github.com/gofrs/flock does, so that the two exclude each other.
func Flock(fd int, how int) error {
	f, err := lookup(fd)
	if err != nil {
		return err
	}
	var o windows.Overlapped
	if how&LOCK_UN != 0 {
		return errno(windows.UnlockFileEx(f.h, 0, 1, 0, &o))
	}
	flags := uint32(windows.LOCKFILE_EXCLUSIVE_LOCK)
	if how&LOCK_NB != 0 {
		flags |= windows.LOCKFILE_FAIL_IMMEDIATELY
	}
	return errno(windows.LockFileEx(f.h, flags, 0, 1, 0, &o))
}

func setTimes(h windows.Handle, ts []Timespec) error {
	var ft [2]*windows.Filetime
	for i := range ts[:2] {
		if ts[i].Nsec != UTIME_OMIT {
			t := windows.NsecToFiletime(ts[i].Nano())
			ft[i] = &t
		}
	}
	return errno(windows.SetFileTime(h, nil, ft[0], ft[1]))
}

// UtimesNanoAt sets path's access and modification times; either may be
// UTIME_OMIT.
func UtimesNanoAt(dirfd int, path string, ts []Timespec, flags int) error {
	h, err := openAttrs(dirfd, path, windows.FILE_WRITE_ATTRIBUTES, flags)
	if err != nil {
		return err
	}
	defer windows.CloseHandle(h)
	return setTimes(h, ts)
}

// TimeStep is the finest step, in nanoseconds, in which Futimens sets a
// file's times here: a FILETIME counts 100 ns.
const TimeStep = 100

// Futimens sets the open file fd's access and modification times; either
// may be UTIME_OMIT.
func Futimens(fd int, ts []Timespec) error {
	f, err := lookup(fd)
	if err != nil {
		return err
	}
	if err := setTimes(f.h, ts); !errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		return err
	}
	return UtimesNanoAt(AT_FDCWD, f.path, ts, AT_SYMLINK_NOFOLLOW)
}
