package lock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	unix "github.com/bucketcache/bucketcache/internal/posix" // x/sys/unix on unix; its equal on Windows
)

// DirMutex is an exclusive lock, across goroutines and processes, on a lock
// file inside a directory, made for locks taken often. It opens the
// directory and the lock file once and keeps both open, so that taking and
// releasing it costs two flock calls and one stat (two on a network
// filesystem), where Mutex opens and closes the lock file every time. Lock
// returns the open directory for the holder's work inside it, so the holder
// never resolves its path again.
//
// Files kept open can be removed, replaced or moved while the lock is free.
// So Lock checks, once flock(2) has granted it, that the lock file's path
// (the directory's name in the parent, then the file's name in it) still
// leads to the file it locked. If it does not (the directory removed and
// made again, moved, swapped for a symbolic link to another directory, the
// lock file deleted or replaced), Lock lets go, opens both afresh and starts
// again. Without that check, two processes could each hold a lock on a
// different file under the same name. On a network filesystem it asks the
// server about each name in turn: the directory, then the lock file.
//
// A directory moved aside and replaced by a symbolic link to itself still
// leads to the locked file: the holders that had it open keep excluding
// each other in it, and everyone else, who opens the directory afresh and
// refuses the link, fails to lock.
//
// The directory is opened by the function given to NewDir, which decides how
// to refuse symbolic links; the lock file is opened in it never through a
// symbolic link. With Fresh set (a directory shared by several machines) it
// is opened read-write, which is what makes flock exclude across hosts on the
// network filesystems that support it; otherwise read-only, which flock does
// not mind, so that closing a lock file found moved away is not reported to
// file watchers as a write to it.
type DirMutex struct {
	parent  int                 // the directory that holds dir; not owned
	dir     string              // dir's name in parent
	file    string              // the lock file's name in dir
	under   string              // the lock file's path in parent: dir/file
	openDir func() (int, error) // opens dir, creating it if needed
	fresh   bool                // stat through to the server (network filesystems)
	path    string              // dir's path, for errors

	sem    chan struct{} // holds one token while held, being taken or closed
	dirfd  int           // open directory, -1 when not open; guarded by sem
	fd     int           // open lock file, -1 when not open; guarded by sem
	dirID  fileStat      // guarded by sem
	fileID fileStat      // guarded by sem
	closed bool          // guarded by sem
}

// DirOptions are NewDir's settings.
type DirOptions struct {
	// OpenDir opens the directory (creating it if needed) and returns its
	// descriptor. It is called with no flock held (other goroutines of this
	// DirMutex wait), on first use and after the directory or the lock file
	// was found replaced.
	OpenDir func() (int, error)
	// Fresh makes every identity check ask the filesystem's server rather
	// than trust attributes the kernel cached (statx AT_STATX_FORCE_SYNC),
	// which a directory shared by several machines needs.
	Fresh bool
	// Path is the directory's path, for error messages.
	Path string
}

// NewDir returns a DirMutex on the lock file named file inside the directory
// named dir in the open directory parent. Nothing is opened until the first
// Lock. The caller keeps parent open until Close.
func NewDir(parent int, dir, file string, opts DirOptions) *DirMutex {
	return &DirMutex{
		parent: parent, dir: dir, file: file, under: dir + "/" + file, openDir: opts.OpenDir, fresh: opts.Fresh, path: opts.Path,
		sem: make(chan struct{}, 1), dirfd: -1, fd: -1,
	}
}

// Lock waits until it holds the lock or ctx is done, and returns the open
// directory, valid until Unlock. When ctx ends first it returns ctx.Err()
// wrapped with the lock file's path, holding nothing. It returns ErrClosed
// after Close, and an error naming the path if the directory or the lock
// file cannot be opened or locked.
func (m *DirMutex) Lock(ctx context.Context) (dirfd int, err error) {
	if _, err = acquire(ctx, m.sem, m, true); err != nil {
		return -1, err
	}
	return m.dirfd, nil
}

// TryLock takes the lock if no goroutine or process holds it, without
// waiting. It reports false, with a nil error, when the lock is held.
func (m *DirMutex) TryLock() (dirfd int, ok bool, err error) {
	ok, err = acquire(context.Background(), m.sem, m, false)
	if !ok {
		return -1, ok, err
	}
	return m.dirfd, true, nil
}

// Unlock releases the lock; the files stay open for the next Lock. It must
// be called once for each successful Lock or TryLock.
func (m *DirMutex) Unlock() error {
	err := flockRetry(m.fd, unix.LOCK_UN)
	<-m.sem
	if err != nil {
		return m.wrapPath("unlock", m.file, err)
	}
	return nil
}

// Close waits for the holder (if any) to unlock, then closes the files. Lock
// and TryLock fail with ErrClosed from then on.
func (m *DirMutex) Close() error {
	m.sem <- struct{}{}
	defer func() { <-m.sem }()
	m.closed = true
	m.closeFiles()
	return nil
}

// ready opens the directory and the lock file if they are not open.
func (m *DirMutex) ready() error {
	if m.closed {
		return ErrClosed
	}
	if m.fd >= 0 {
		return nil
	}
	// On a network filesystem, a directory or file another machine has just
	// made or replaced can fail its first stat with ESTALE; anywhere, one
	// removed between its open and its stat has no name (ENOENT): open
	// afresh.
	for try := 0; ; try++ {
		err := m.openFiles()
		if err == nil || !errors.Is(err, unix.ESTALE) && !errors.Is(err, unix.ENOENT) || try == 100 {
			return err
		}
		time.Sleep(time.Millisecond)
	}
}

// openFiles opens the directory and the lock file, and records their
// identities.
func (m *DirMutex) openFiles() error {
	dirfd, err := m.openDir()
	if err != nil {
		return err
	}
	dirID, err := m.stat(dirfd, "")
	if err != nil {
		unix.Close(dirfd)
		return m.wrapPath("stat", "", err)
	}
	fd, err := openLockFile(dirfd, m.file, m.fresh)
	if err != nil {
		unix.Close(dirfd)
		return m.wrapPath("open", m.file, err)
	}
	fileID, err := m.stat(fd, "")
	if err != nil {
		unix.Close(fd)
		unix.Close(dirfd)
		return m.wrapPath("stat", m.file, err)
	}
	m.dirfd, m.fd, m.dirID, m.fileID = dirfd, fd, dirID, fileID
	return nil
}

// open readies the files (see ready) and returns the lock file's descriptor.
func (m *DirMutex) open() (int, error) {
	if err := m.ready(); err != nil {
		return -1, err
	}
	return m.fd, nil
}

// keepsOpen is true: the files stay open between locks. After an abandoned
// wait, the waiting goroutine holds sem until flock returns, so they stay
// open meanwhile.
func (m *DirMutex) keepsOpen() bool { return true }

// check finishes a lock attempt whose flock on fd (the lock file, m.fd)
// returned flockErr. It reports true when the lock is held on the file that
// the path names now, false when the files were found moved, replaced or
// removed (they are then unlocked and closed, for the caller to try again),
// or an error (nothing held).
func (m *DirMutex) check(fd int, flockErr error) (bool, error) {
	if flockErr != nil {
		m.closeFiles()
		return false, m.wrapPath("flock", m.file, flockErr)
	}
	var err error
	if !m.fresh {
		// Locally, one lookup of the lock file's path from the parent
		// answers for both: it finds the locked file only through the
		// directory that the name holds now, and only if that file still
		// has its name there.
		var file fileStat
		if file, err = m.stat(m.parent, m.under); err == nil && file == m.fileID {
			return true, nil
		}
	} else if dir, err2 := m.stat(m.parent, m.dir); err2 != nil {
		err = err2
	} else if dir == m.dirID {
		// On a network filesystem, each is asked of the server: the
		// directory by its name, then the lock file by its name in it.
		var file fileStat
		if file, err = m.stat(m.dirfd, m.file); err == nil && file == m.fileID {
			return true, nil
		}
	}
	if err != nil && !isGone(err) {
		flockRetry(m.fd, unix.LOCK_UN)
		m.closeFiles()
		return false, m.wrapPath("stat", m.file, err)
	}
	flockRetry(m.fd, unix.LOCK_UN)
	m.closeFiles()
	return false, nil
}

func (m *DirMutex) closeFiles() {
	if m.fd >= 0 {
		unix.Close(m.fd)
	}
	if m.dirfd >= 0 {
		unix.Close(m.dirfd)
	}
	m.fd, m.dirfd = -1, -1
}

// stat returns the identity of name in dirfd (of dirfd itself when name is
// empty), without following a final symbolic link. A file that no name
// holds any more counts as gone (ENOENT).
func (m *DirMutex) stat(dirfd int, name string) (fileStat, error) {
	flags := unix.AT_SYMLINK_NOFOLLOW
	if name == "" {
		flags |= unix.AT_EMPTY_PATH
	}
	if !m.fresh {
		var st unix.Stat_t
		if err := unix.Fstatat(dirfd, name, &st, flags); err != nil {
			return fileStat{}, err
		}
		if st.Nlink == 0 {
			return fileStat{}, unix.ENOENT
		}
		return fileStat{dev: uint64(st.Dev), ino: st.Ino, mode: uint32(st.Mode) & unix.S_IFMT}, nil
	}
	var x unix.Statx_t
	err := unix.Statx(dirfd, name, flags|unix.AT_STATX_FORCE_SYNC, unix.STATX_TYPE|unix.STATX_INO|unix.STATX_NLINK, &x)
	if err == unix.ENOSYS { // kernels before 4.11
		m.fresh = false
		return m.stat(dirfd, name)
	}
	if err != nil {
		return fileStat{}, err
	}
	if x.Mask&unix.STATX_NLINK != 0 && x.Nlink == 0 {
		return fileStat{}, unix.ENOENT
	}
	return fileStat{dev: unix.Mkdev(x.Dev_major, x.Dev_minor), ino: x.Ino, mode: uint32(x.Mode) & unix.S_IFMT}, nil
}

// wrap names the lock file in err.
func (m *DirMutex) wrap(op string, err error) error { return m.wrapPath(op, m.file, err) }

// wrapPath names the file name in the directory (the directory itself when
// name is empty) in err.
func (m *DirMutex) wrapPath(op, name string, err error) error {
	return fmt.Errorf("lock: %w", &fs.PathError{Op: op, Path: filepath.Join(m.path, name), Err: err})
}
