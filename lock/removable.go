package lock

import (
	"context"
	"fmt"
	"io/fs"

	unix "github.com/bucketcache/bucketcache/internal/posix" // x/sys/unix on unix; its equal on Windows
)

// Removable is an exclusive lock on a lock file that its holder may delete
// when done, so that lock files made for short-lived work (one per cache key,
// say) do not pile up. Create it with NewRemovable; it must not be copied
// after first use. Its methods are safe for concurrent use.
//
// Deleting a lock file that others may have open is dangerous: a process
// that opened the old file and one that creates a new file under the same
// name would both "hold" the lock. Removable closes that hole with a check:
// once flock(2) succeeds, Lock compares the locked file's identity (device
// and inode, from fstat) with what the path names at that moment (lstat). If
// the path is gone or names another file, the holder it waited for removed
// it, so Lock lets go and starts again with a fresh open. While a holder
// keeps a checked lock, nobody else can remove or replace the path, because
// only a holder removes it (Remove), and only while holding it. So at most
// one holder at a time, across goroutines and processes, holds a lock on
// the file the path names.
//
// The protocol holds only if nothing else removes or renames the lock file:
// every party must use Removable (or the same check) on it.
//
// Two Removables on one path exclude each other even inside one process,
// because each lock is an flock on its own open file description. The kernel
// releases a dead holder's lock at once, even after kill -9; its lock file
// stays until the next holder removes it.
type Removable struct {
	path string
	sem  chan struct{} // holds one token while this Removable holds the lock or is taking it
	fd   int           // the locked file's descriptor while held; guarded by sem
}

// NewRemovable returns a Removable on the lock file at path, created on
// first use.
func NewRemovable(path string) *Removable {
	return &Removable{path: path, sem: make(chan struct{}, 1), fd: -1}
}

// Path is the lock file's path.
func (r *Removable) Path() string { return r.path }

// Lock waits until it holds the lock or ctx is done. It returns ctx.Err() if
// ctx ended first, and an error naming the path if the lock file cannot be
// opened, created or locked (for instance because its directory is gone).
// Waiting costs no polling: a blocking flock runs in its own goroutine, which
// a cancelled Lock leaves behind to release the lock as soon as it gets it.
func (r *Removable) Lock(ctx context.Context) error {
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	for {
		if err := ctx.Err(); err != nil {
			<-r.sem
			return err
		}
		fd, err := r.open()
		if err != nil {
			<-r.sem
			return err
		}
		err = flockRetry(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == unix.EWOULDBLOCK {
			var cancelled bool
			cancelled, err = r.wait(ctx, fd)
			if cancelled {
				<-r.sem // fd now belongs to wait's goroutine
				return ctx.Err()
			}
		}
		if ok, err := r.check(fd, err); err != nil || ok {
			if err != nil {
				<-r.sem
			}
			return err
		}
	}
}

// TryLock takes the lock if no goroutine or process holds it, without
// waiting. It reports false, with a nil error, when the lock is held.
func (r *Removable) TryLock() (bool, error) {
	select {
	case r.sem <- struct{}{}:
	default:
		return false, nil
	}
	for {
		fd, err := r.open()
		if err != nil {
			<-r.sem
			return false, err
		}
		err = flockRetry(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == unix.EWOULDBLOCK {
			unix.Close(fd)
			<-r.sem
			return false, nil
		}
		if ok, err := r.check(fd, err); err != nil || ok {
			if err != nil {
				<-r.sem
			}
			return ok, err
		}
	}
}

// Unlock releases the lock and keeps the lock file. It must be called (or
// Remove) once for each successful Lock or TryLock.
func (r *Removable) Unlock() error {
	if r.fd < 0 {
		return fmt.Errorf("lock %s: Unlock of an unheld lock", r.path)
	}
	err := r.release()
	<-r.sem
	return err
}

// Remove deletes the lock file while still holding the lock, then releases
// it. Waiters in other goroutines and processes then find that the file they
// locked is no longer the one the path names, and start again on a new file.
// The lock is released even when the deletion fails.
func (r *Removable) Remove() error {
	if r.fd < 0 {
		return fmt.Errorf("lock %s: Remove of an unheld lock", r.path)
	}
	err := unix.Unlink(r.path)
	if err == unix.ENOENT {
		err = nil
	}
	if err != nil {
		err = r.wrap("remove", err)
	}
	if uerr := r.release(); err == nil {
		err = uerr
	}
	<-r.sem
	return err
}

// open opens (creating if needed) the lock file read-write: never a
// directory, never through a symbolic link, never inherited by children.
func (r *Removable) open() (int, error) {
	fd, err := openLockFile(unix.AT_FDCWD, r.path, true)
	if err != nil {
		return -1, r.wrap("open", err)
	}
	return fd, nil
}

// wait blocks in flock on fd until the lock is granted or ctx is done. When
// ctx ends first it reports cancelled, and hands fd to the waiting goroutine,
// which closes it (dropping any lock it got) once flock returns.
func (r *Removable) wait(ctx context.Context, fd int) (cancelled bool, err error) {
	return flockWait(ctx, fd, func(error) { unix.Close(fd) })
}

// flockWait takes an exclusive flock on fd, waiting until it is granted or
// ctx is done; a wait that honours ctx runs flock in a goroutine of its own.
// When ctx ends first it reports cancelled, and that goroutine calls abandon
// with flock's result once flock returns (abandon must drop a lock it got).
func flockWait(ctx context.Context, fd int, abandon func(flockErr error)) (cancelled bool, err error) {
	if ctx.Done() == nil {
		return false, flockRetry(fd, unix.LOCK_EX)
	}
	done := make(chan error, 1)
	go func() { done <- flockRetry(fd, unix.LOCK_EX) }()
	select {
	case err := <-done:
		return false, err
	case <-ctx.Done():
		go func() { abandon(<-done) }()
		return true, nil
	}
}

// check finishes a lock attempt on fd whose flock returned flockErr. It
// reports true when this Removable now holds the lock on the file the path
// names (fd is kept), false when the path has moved on and the attempt must
// be repeated, or an error; in both of the latter cases fd is closed.
func (r *Removable) check(fd int, flockErr error) (bool, error) {
	if flockErr != nil {
		unix.Close(fd)
		return false, r.wrap("flock", flockErr)
	}
	locked, err := statFresh(fd, "")
	if err != nil {
		unix.Close(fd)
		return false, r.wrap("fstat", err)
	}
	named, err := statFresh(-1, r.path)
	if err != nil && err != unix.ENOENT && err != unix.ESTALE {
		unix.Close(fd)
		return false, r.wrap("stat", err)
	}
	if err == nil && locked.nlink > 0 && named.dev == locked.dev && named.ino == locked.ino {
		r.fd = fd
		return true, nil
	}
	unix.Close(fd) // removed (or replaced) by the holder we waited for: again
	return false, nil
}

// release unlocks and closes the held file. The explicit unlock frees the
// lock at once even if a child being forked at this moment briefly shares
// the open file description (before its exec closes it).
func (r *Removable) release() error {
	fd := r.fd
	r.fd = -1
	err := flockRetry(fd, unix.LOCK_UN)
	if cerr := unix.Close(fd); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return r.wrap("unlock", err)
	}
	return nil
}

func (r *Removable) wrap(op string, err error) error {
	return fmt.Errorf("lock: %w", &fs.PathError{Op: op, Path: r.path, Err: err})
}

// flockRetry is flock(2), retried when a signal interrupts it.
func flockRetry(fd, how int) error {
	for {
		err := unix.Flock(fd, how)
		if err != unix.EINTR {
			return err
		}
	}
}

// fileStat is what the identity checks need of a file.
type fileStat struct {
	dev, ino, nlink uint64
	mode            uint32 // the file type bits (DirMutex only)
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
