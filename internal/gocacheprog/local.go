package gocacheprog

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// localDir is the directory of the files handed to the go command: one
// read-only file per OutputID, named by its hex in a subdirectory named by
// the first two digits.
//
// Every Cache using the directory holds a shared flock on its lock file
// from Open to Close; a sweep of old files runs only under an exclusive one,
// taken without waiting, so never while another Cache (and the go command
// it serves) may be using a file.
type localDir struct {
	dir  string
	now  func() time.Time
	lock *os.File // the lock file, flocked shared while the Cache is open
}

const (
	localLockName  = "lock"
	localStampName = "trim.stamp" // its modification time: the last sweep
	tempPrefix     = ".tmp-"
	// touchEvery is how stale a file's time may get before a hand-out
	// refreshes it, and sweepEvery how often a sweep may run.
	touchEvery = time.Hour
	sweepEvery = time.Hour
)

func openLocal(dir string, now func() time.Time) (*localDir, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, fmt.Errorf("gocacheprog: local directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, localLockName), os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("gocacheprog: local directory: %w", err)
	}
	if err := flock(f, lockShared); err != nil {
		f.Close()
		return nil, fmt.Errorf("gocacheprog: locking the local directory: %w", err)
	}
	return &localDir{dir: dir, now: now, lock: f}, nil
}

// path is the local file of output o.
func (l *localDir) path(o id) string {
	h := hex.EncodeToString(o[:])
	return filepath.Join(l.dir, h[:2], h)
}

// find returns the local file of output o if it exists with the given size,
// refreshing its time if it is stale.
func (l *localDir) find(o id, size int64) (string, bool) {
	p := l.path(o)
	st, err := os.Lstat(p)
	if err != nil || !st.Mode().IsRegular() || st.Size() != size {
		return "", false
	}
	if now := l.now(); now.Sub(st.ModTime()) > touchEvery {
		os.Chtimes(p, now, now) // best effort: a stale time only makes a sweep remove it sooner
	}
	return p, true
}

// write puts body, whose OutputID o the caller checked, in its local file
// (temporary file, then rename) unless it is there already.
func (l *localDir) write(o id, body []byte) (string, error) {
	if p, ok := l.find(o, int64(len(body))); ok {
		return p, nil
	}
	p := l.path(o)
	sub := filepath.Dir(p)
	if err := os.Mkdir(sub, 0o777); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("gocacheprog: local directory: %w", err)
	}
	f, err := os.CreateTemp(sub, tempPrefix+filepath.Base(p)+"-*")
	if err != nil {
		return "", fmt.Errorf("gocacheprog: local directory: %w", err)
	}
	_, err = f.Write(body)
	if err == nil {
		err = f.Chmod(0o444)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("gocacheprog: writing a local file: %w", err)
	}
	return p, nil
}

// close releases the directory's lock and, if no other Cache holds it and
// no sweep ran within sweepEvery, removes the files unused for maxAge and
// the temporary files older than an hour (left by killed processes).
func (l *localDir) close(maxAge time.Duration) error {
	defer l.lock.Close()
	if err := flock(l.lock, lockExclusiveNow); err != nil {
		return nil // another Cache is using the directory: it sweeps at its close
	}
	now := l.now()
	stamp := filepath.Join(l.dir, localStampName)
	if st, err := os.Stat(stamp); err == nil {
		if age := now.Sub(st.ModTime()); age >= 0 && age < sweepEvery {
			return nil
		}
	}
	if err := os.WriteFile(stamp, nil, 0o666); err != nil {
		return fmt.Errorf("gocacheprog: local directory: %w", err)
	}
	os.Chtimes(stamp, now, now)
	_, err := l.sweep(now, maxAge)
	return err
}

// sweep removes the files unused for maxAge and the temporary files older
// than touchEvery; the caller holds the exclusive lock. It returns how many
// files it removed.
func (l *localDir) sweep(now time.Time, maxAge time.Duration) (int, error) {
	subs, err := os.ReadDir(l.dir)
	if err != nil {
		return 0, fmt.Errorf("gocacheprog: sweeping the local directory: %w", err)
	}
	removed := 0
	var errs []error
	for _, sub := range subs {
		if !sub.IsDir() || len(sub.Name()) != 2 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(l.dir, sub.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range files {
			info, err := f.Info()
			if err != nil {
				continue // removed meanwhile
			}
			age := now.Sub(info.ModTime())
			if age <= maxAge && !(strings.HasPrefix(f.Name(), tempPrefix) && age > touchEvery) {
				continue
			}
			if err := os.Remove(filepath.Join(l.dir, sub.Name(), f.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
				continue
			}
			removed++
		}
	}
	if len(errs) > 0 {
		return removed, fmt.Errorf("gocacheprog: sweeping the local directory: %w", errors.Join(errs...))
	}
	return removed, nil
}
