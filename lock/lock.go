// Package lock provides exclusive locks that hold across goroutines and
// across processes: a flock(2) on a lock file, paired with an in-process lock.
//
// flock alone is not enough inside one process: goroutines sharing one open
// file share its lock, and the race detector cannot see flock at all. So
// each lock first takes an in-process lock (a channel, so that waiting
// honours a context), then the flock. Across processes the flock is exact,
// and the kernel releases it at once when its holder dies, even by kill -9.
//
// There are three kinds. Mutex (flock through gofrs/flock) opens its lock
// file by path for each lock: for locks taken now and then. DirMutex keeps a
// directory and the lock file in it open between locks and checks after each
// flock that their names still hold them: for locks taken on every write.
// Removable is a lock file its holder may delete when done. All of them
// exclude each other on the same file.
//
// Locks are taken on regular files, never on directories, and where several
// machines share the filesystem the files are opened read-write, because
// that is what makes flock exclude across hosts on the network filesystems
// that support it.
package lock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/gofrs/flock"
)

// Mutex is an exclusive lock on a lock file. Create it with New; a Mutex must
// not be copied after first use. Its methods are safe for concurrent use.
type Mutex struct {
	path string
	sem  chan struct{} // holds one token while this process holds or is taking the lock
	fl   *flock.Flock  // guarded by sem
}

// New returns a Mutex on the lock file at path, created on first use. A
// symbolic link at path is refused (ELOOP), never followed.
func New(path string) *Mutex {
	return &Mutex{
		path: path,
		sem:  make(chan struct{}, 1),
		fl:   flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDWR|noFollow), flock.SetPermissions(0o666)),
	}
}

// Path is the lock file's path.
func (m *Mutex) Path() string { return m.path }

// Lock waits until it holds the lock or ctx is done. It returns ctx.Err() if
// ctx ended first, and an error naming the path if the lock file cannot be
// opened or locked. Waiting for another process costs no polling: a blocking
// flock runs in its own goroutine, and a cancelled wait releases the lock as
// soon as that goroutine gets it.
func (m *Mutex) Lock(ctx context.Context) error {
	select {
	case m.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	ok, err := m.tryLock()
	if err != nil {
		<-m.sem
		return m.wrap(err)
	}
	if ok {
		return nil
	}
	if ctx.Done() == nil {
		if err := m.fl.Lock(); err != nil {
			<-m.sem
			return m.wrap(err)
		}
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- m.fl.Lock() }()
	select {
	case err := <-done:
		if err != nil {
			<-m.sem
			return m.wrap(err)
		}
		return nil
	case <-ctx.Done():
		go func() {
			if err := <-done; err == nil {
				_ = m.fl.Unlock()
			}
			<-m.sem
		}()
		return ctx.Err()
	}
}

// TryLock takes the lock if no goroutine or process holds it, without waiting.
func (m *Mutex) TryLock() (bool, error) {
	select {
	case m.sem <- struct{}{}:
	default:
		return false, nil
	}
	ok, err := m.tryLock()
	if err != nil || !ok {
		<-m.sem
		return false, m.wrap(err)
	}
	return true, nil
}

// Unlock releases the lock. It must be called once for each successful Lock
// or TryLock.
func (m *Mutex) Unlock() error {
	err := m.fl.Unlock()
	<-m.sem
	return m.wrap(err)
}

// File is the open lock file while the lock is held (nil otherwise); callers
// that remove lock files compare its identity with the path's.
func (m *Mutex) File() (os.FileInfo, error) { return m.fl.Stat() }

func (m *Mutex) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("lock %s: %w", m.path, err)
}

// tryLock is the flock's TryLock, which opens the lock file on first use,
// retried while that open fails with EEXIST: GlusterFS fails an O_CREAT
// open racing another machine's create of the same file that way.
func (m *Mutex) tryLock() (bool, error) {
	ok, err := m.fl.TryLock()
	for try := 0; errors.Is(err, fs.ErrExist) && try < 100; try++ {
		time.Sleep(time.Millisecond)
		ok, err = m.fl.TryLock()
	}
	return ok, err
}
