package lock

import (
	"context"
	"fmt"
	"io/fs"

	unix "github.com/bucketcache/bucketcache/internal/posix" // x/sys/unix on unix; its equal on Windows
)

// Mutex is an exclusive lock, across goroutines and processes, on the lock
// file at a path, which its holder may delete when done. Create it with
// New.
//
// Lock opens (creating if needed) the file, takes flock(2) on it, and then
// compares the locked file's identity (device and inode, from fstat) with
// what the path names at that moment (lstat), both asked of the server on a
// network filesystem. If the path is gone or names another file, the holder
// it waited for removed it, so Lock lets go and starts again with a fresh
// open. While a holder keeps a checked lock, nobody else can remove or
// replace the path, because only a holder removes it (Remove), and only
// while holding it. Unlock closes the file and keeps it; Remove deletes it.
type Mutex struct {
	path string
	sem  chan struct{} // holds one token while this Mutex holds the lock or is taking it
	fd   int           // the locked file's descriptor while held; guarded by sem
}

// New returns a Mutex on the lock file at path, created on first use. A
// symbolic link or a directory at path is refused, never followed.
func New(path string) *Mutex {
	return &Mutex{path: path, sem: make(chan struct{}, 1), fd: -1}
}

// Lock waits until it holds the lock or ctx is done. When ctx ends first it
// returns ctx.Err() wrapped with the path, holding nothing. It returns an
// error naming the path if the lock file cannot be opened, created or locked
// (for instance because its directory is gone).
func (m *Mutex) Lock(ctx context.Context) error {
	_, err := acquire(ctx, m.sem, m, true)
	return err
}

// TryLock takes the lock if no goroutine or process holds it, without
// waiting. It reports false, with a nil error, when the lock is held.
func (m *Mutex) TryLock() (bool, error) {
	return acquire(context.Background(), m.sem, m, false)
}

// Unlock releases the lock and keeps the lock file. It must be called (or
// Remove) once for each successful Lock or TryLock.
func (m *Mutex) Unlock() error {
	if m.fd < 0 {
		return fmt.Errorf("lock %s: Unlock of an unheld lock", m.path)
	}
	err := m.release()
	<-m.sem
	return err
}

// Remove deletes the lock file while still holding the lock, then releases
// it. Waiters in other goroutines and processes then find that the file they
// locked is no longer the one the path names, and start again on a new file.
// The lock is released even when the deletion fails.
func (m *Mutex) Remove() error {
	if m.fd < 0 {
		return fmt.Errorf("lock %s: Remove of an unheld lock", m.path)
	}
	err := unix.Unlink(m.path)
	if err == unix.ENOENT {
		err = nil
	}
	if err != nil {
		err = m.wrap("remove", err)
	}
	if uerr := m.release(); err == nil {
		err = uerr
	}
	<-m.sem
	return err
}

// open opens (creating if needed) the lock file read-write: never a
// directory, never through a symbolic link, never inherited by children.
func (m *Mutex) open() (int, error) {
	fd, err := openLockFile(unix.AT_FDCWD, m.path, true)
	if err != nil {
		return -1, m.wrap("open", err)
	}
	return fd, nil
}

// check finishes a lock attempt on fd whose flock returned flockErr. It
// reports true when this Mutex now holds the lock on the file the path
// names (fd is kept), false when the path has moved on and the attempt must
// be repeated, or an error; in both of the latter cases fd is closed.
func (m *Mutex) check(fd int, flockErr error) (bool, error) {
	if flockErr != nil {
		unix.Close(fd)
		return false, m.wrap("flock", flockErr)
	}
	locked, err := statFresh(fd, "")
	if err != nil {
		unix.Close(fd)
		return false, m.wrap("fstat", err)
	}
	named, err := statFresh(-1, m.path)
	if err != nil && err != unix.ENOENT && err != unix.ESTALE {
		unix.Close(fd)
		return false, m.wrap("stat", err)
	}
	if err == nil && locked.nlink > 0 && named.dev == locked.dev && named.ino == locked.ino {
		m.fd = fd
		return true, nil
	}
	unix.Close(fd) // removed (or replaced) by the holder we waited for: again
	return false, nil
}

// keepsOpen is false: the lock file is opened afresh for each lock.
func (m *Mutex) keepsOpen() bool { return false }

// release unlocks and closes the held file. The explicit unlock frees the
// lock at once even if a child being forked at this moment briefly shares
// the open file description (before its exec closes it).
func (m *Mutex) release() error {
	fd := m.fd
	m.fd = -1
	err := flockRetry(fd, unix.LOCK_UN)
	if cerr := unix.Close(fd); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return m.wrap("unlock", err)
	}
	return nil
}

func (m *Mutex) wrap(op string, err error) error {
	return fmt.Errorf("lock: %w", &fs.PathError{Op: op, Path: m.path, Err: err})
}

// statFresh stats path without following a final symlink, or with an empty
// path the open file fd, asking the server on a network filesystem rather
// than trusting the names and attributes the kernel cached (a GlusterFS
// mount caches both for a second, so another machine's removal of the lock
// file would go unseen).
func statFresh(fd int, path string) (fileStat, error) {
	dirfd, flags := unix.AT_FDCWD, unix.AT_SYMLINK_NOFOLLOW|unix.AT_STATX_FORCE_SYNC
	if path == "" {
		dirfd, flags = fd, flags|unix.AT_EMPTY_PATH
	}
	var x unix.Statx_t
	err := unix.Statx(dirfd, path, flags, unix.STATX_INO|unix.STATX_NLINK, &x)
	if err == unix.ENOSYS { // kernels before 4.11
		var st unix.Stat_t
		if path == "" {
			err = unix.Fstat(fd, &st)
		} else {
			err = unix.Lstat(path, &st)
		}
		return fileStat{dev: uint64(st.Dev), ino: st.Ino, nlink: uint64(st.Nlink)}, err
	}
	return fileStat{dev: unix.Mkdev(x.Dev_major, x.Dev_minor), ino: x.Ino, nlink: uint64(x.Nlink)}, err
}
