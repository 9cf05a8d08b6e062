// Package lock provides exclusive locks that hold across goroutines and
// across processes: flock(2) on a lock file, paired with an in-process
// semaphore.
//
// # Two kinds
//
// A Mutex is a lock on the lock file at a path. It opens the file for each
// lock and closes it on release, and its holder may delete the file when
// done (Remove), so that lock files made for short-lived work (one per
// cache key, say) do not pile up. Take it now and then: for a trim, for one
// run of a memoized function.
//
// A DirMutex is a lock on a lock file inside a directory, made for locks
// taken on every write. It keeps the directory and the lock file open
// between locks, so that taking and releasing it costs two flock calls and
// one stat (two on a network filesystem), and hands its holder the open
// directory to work in.
//
// Both lock the same way, so a Mutex and a DirMutex on the same file exclude
// each other, as do two of either kind, in one process or several.
//
// # What they promise
//
// At most one holder at a time, across goroutines and processes, holds a
// lock on the file that the lock file's name holds. Across processes the
// promise comes from flock, which is exact, and which the kernel drops at
// once when its holder dies, even by kill -9; the lock file stays, and the
// next holder uses it (or removes it). Files can be removed or replaced
// while the lock is free (by Remove, or by an operator), so once flock has
// granted a lock, each kind checks that the locked file is still the one
// the name holds (for a DirMutex, the one its path from the parent, through
// the directory's name, leads to); if not, it lets go and starts again on
// the new file. Without that check a process that opened the old file and one
// that created a new one would both "hold" the lock. The check holds only
// if nothing removes or renames a lock file while it is held: every party
// must use this package (or the same check) on it.
//
// flock alone is not enough inside one process: goroutines sharing one open
// file share its lock, and the race detector cannot see flock at all. So each
// Mutex and DirMutex is also an in-process semaphore (a channel of one token,
// so that waiting for it honours a context): Lock takes the token first, then
// the flock, and Unlock gives back both. Methods are safe for concurrent use,
// and a value must not be copied after first use.
//
// # Waiting
//
// Both kinds take the lock in one loop. Lock waits until it holds the lock or
// its context is done; a waiter for another process costs no polling,
// because a blocking flock runs in a goroutine of its own. When the context
// ends first, Lock returns at once with the context's error, wrapped with the
// lock file's path (test it with errors.Is), and holds nothing: the waiting
// goroutine gives back the lock as soon as flock grants it, and only then
// lets this value's next Lock proceed. TryLock never waits.
//
// # Files
//
// Locks are taken on regular files, never on directories, never through a
// symbolic link, and on descriptors no child process inherits. Where several
// machines share the filesystem the files are opened read-write and every
// identity check asks the server rather than the kernel's cache, because
// that is what makes flock exclude across hosts on the network filesystems
// that support it (an flock on a directory excludes only within one host on
// GlusterFS).
//
// # Why not gofrs/flock
//
// The package calls flock(2) itself rather than through
// github.com/gofrs/flock. A gofrs Flock owns the file it locks: it closes
// it on Unlock and after a TryLock that fails, so it cannot keep a lock file
// open between locks, and it waits with a context only by polling
// (TryLockContext), so that its latency under contention is the poll
// interval. The loop both kinds share needs the descriptor itself: to block
// in flock in a goroutine it can abandon, to compare the locked file with
// its name, and to open the file under a directory it keeps open. A Mutex is
// that loop on a file opened by its path, so wrapping gofrs/flock would add a
// second way of locking without removing any code.
package lock

import (
	"context"
	"errors"
	"time"

	unix "github.com/bucketcache/bucketcache/internal/posix" // x/sys/unix on unix; its equal on Windows
)

// ErrClosed is returned by a DirMutex's Lock and TryLock after Close.
var ErrClosed = errors.New("lock: closed")

// lockFile is what one kind of lock does around the shared loop, acquire,
// which calls its methods while holding the kind's semaphore.
type lockFile interface {
	// open readies the lock file and returns its descriptor. An error
	// means nothing is open that the kind does not keep.
	open() (fd int, err error)
	// check finishes an attempt whose flock on fd returned flockErr (nil
	// when granted). It reports true when the lock is held on the file its
	// name holds now; false when the file was found moved, replaced or
	// removed, having let go of it, so that acquire starts again; or an
	// error, holding nothing.
	check(fd int, flockErr error) (bool, error)
	// keepsOpen reports whether the kind keeps the lock file open between
	// attempts (a DirMutex), rather than opening it for each (a Mutex).
	keepsOpen() bool
	// wrap names the lock file in err.
	wrap(op string, err error) error
}

// acquire is the one wait loop of every kind: it takes the semaphore sem,
// then an exclusive flock on f's file, and checks it. With wait unset it is
// TryLock: it reports false, with a nil error, when another goroutine or
// process holds the lock. With wait set it waits until it holds the lock or
// ctx is done, and then returns ctx.Err() wrapped, holding nothing. It keeps
// sem's token when it reports true, and gives it back otherwise (after an
// abandoned wait, the waiting goroutine gives it back once flock returns).
func acquire(ctx context.Context, sem chan struct{}, f lockFile, wait bool) (bool, error) {
	if wait {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return false, f.wrap("wait", ctx.Err())
		}
	} else {
		select {
		case sem <- struct{}{}:
		default:
			return false, nil
		}
	}
	for {
		if wait && ctx.Err() != nil {
			<-sem
			return false, f.wrap("wait", ctx.Err())
		}
		fd, err := f.open()
		if err != nil {
			<-sem
			return false, err
		}
		err = flockRetry(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == unix.EWOULDBLOCK {
			closeFd := !f.keepsOpen()
			if !wait {
				drop(fd, err, closeFd)
				<-sem
				return false, nil
			}
			// The waiting goroutine that a cancelled wait leaves behind
			// holds sem until flock returns, so that a DirMutex's files
			// stay open meanwhile; it touches nothing else of the kind.
			var cancelled bool
			cancelled, err = flockWait(ctx, fd, func(flockErr error) {
				drop(fd, flockErr, closeFd)
				<-sem
			})
			if cancelled {
				return false, f.wrap("wait", ctx.Err())
			}
		}
		held, err := f.check(fd, err)
		if err != nil {
			<-sem
			return false, err
		}
		if held {
			return true, nil
		}
	}
}

// drop gives up an attempt on fd whose flock returned flockErr: it releases
// the lock if flockErr is nil (the explicit unlock frees it at once, even if
// a child being forked briefly shares the open file), and closes fd if
// closeFd is set.
func drop(fd int, flockErr error, closeFd bool) {
	if flockErr == nil {
		flockRetry(fd, unix.LOCK_UN)
	}
	if closeFd {
		unix.Close(fd)
	}
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

// flockRetry is flock(2), retried when a signal interrupts it.
func flockRetry(fd, how int) error {
	for {
		err := unix.Flock(fd, how)
		if err != unix.EINTR {
			return err
		}
	}
}

// openLockFile opens (creating if needed) the lock file name in dirfd,
// read-write if rw is set, else read-only: never through a symbolic link,
// never inherited by children. Opening a directory read-write fails, and so
// does creating one's name read-only (EISDIR).
func openLockFile(dirfd int, name string, rw bool) (int, error) {
	mode := unix.O_RDONLY
	if rw {
		mode = unix.O_RDWR
	}
	for try := 0; ; {
		fd, err := unix.Openat(dirfd, name, mode|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o666)
		if err == unix.EINTR {
			continue
		}
		if (err == unix.EEXIST || err == unix.ESTALE) && try < 100 {
			// On GlusterFS, an O_CREAT open racing another machine's
			// create of the same file fails with EEXIST, and one racing
			// its removal with ESTALE: open it again.
			try++
			time.Sleep(time.Millisecond)
			continue
		}
		return fd, err
	}
}

// fileStat is what the identity checks need of a file.
type fileStat struct {
	dev, ino, nlink uint64
	mode            uint32 // the file type bits (DirMutex only)
}

// isGone reports errors of a stat that mean the name no longer holds the
// file: removed, or (on a network filesystem) replaced by another machine.
func isGone(err error) bool {
	return err == unix.ENOENT || err == unix.ENOTDIR || err == unix.ESTALE
}
