// Package store is the untyped engine under package bucket: a directory of
// entry files addressed by canonical key bytes, shared by any number of
// goroutines and processes on one machine, with a validated in-memory layer.
//
// The multi-process contract. A Store may share its directory with other
// Stores in this process and in other processes at the same time. Every entry
// is a single file (see package shard) that is written to a temporary file in
// its shard directory and renamed over the entry's name while the writer holds
// the shard's exclusive lock (package lock), so a reader, which takes no lock,
// sees the old entry or the new one, never a mix, and never waits for a
// writer. A process that dies mid-write leaves at most a temporary file, which
// Prune removes. Every reader verifies what it reads (lengths, checksums, the
// key itself), and any damage is a miss, never a wrong value. The in-memory
// layer never serves a copy that another Store or process has replaced or
// removed since: each shard has a generation counter in a small file mapped
// into every process (package shard), which writers advance around each change
// and readers compare with one atomic load. Expiry is absolute and judged by
// each reader's clock; a Store deletes only entries whose own stored expiry has
// passed, so Stores with different lifetimes never destroy each other's live
// entries.
//
// On a filesystem shared by several machines (Options.SharedFilesystem), the
// memory layer validates every warm read with a stat answered by the server
// instead of the mapped counters, which other machines cannot see.
//
// Paths are resolved beneath the bucket directory without following symbolic
// links (openat2 with RESOLVE_BENEATH and RESOLVE_NO_SYMLINKS): an entry file
// or a shard directory replaced by a symlink is damage, never followed.
package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bucketcache/bucketcache/internal/posix"
	"github.com/bucketcache/bucketcache/lock"
	"github.com/bucketcache/bucketcache/shard"
)

// DefaultMemoryLimit is the in-memory layer's size when Config.MemoryLimit is 0.
const DefaultMemoryLimit = 64 << 20

// ErrNotFound reports a key that is missing, expired, too old for the Store's
// lifetime, or whose file is not a valid entry for it.
var ErrNotFound = errors.New("bucketcache: not found")

// ErrClosed reports use of a Store after Close.
var ErrClosed = errors.New("bucketcache: bucket is closed")

// Config is bucket.Options as the engine reads it: the fields that concern
// the files, with the same names and meanings (bucket.Options documents
// each one; it is the only place that does). Package bucket builds it in one
// place, Options.config. The zero value is ready to use.
type Config struct {
	Lifetime         time.Duration
	Shards           int
	Durable          bool
	MemoryLimit      int64 // 0: DefaultMemoryLimit; negative: no memory layer
	Now              func() time.Time
	MaxBytes         int64
	MaxEntries       int64
	EvictionGrace    time.Duration // 0: one minute
	TrimInterval     time.Duration // 0: ten seconds
	SharedFilesystem bool          // Open also turns it on for network and FUSE filesystems
	Adopt            bool          // record a layout in a non-empty directory that has none
}

// Store is a bucket directory opened for use. Its methods are safe for
// concurrent use.
type Store struct {
	dir    string
	opts   Config
	clock  *clock // opts.Now, and a cheaper reading for warm reads
	layout shard.Layout
	root   int              // O_PATH-free directory fd of dir, for openat2
	ctrs   *shard.Counters  // shared generations and usage; nil when unavailable
	mem    *memory          // nil when the in-memory layer is off
	locks  []*lock.DirMutex // each shard's lock, holding its directory open
	tmpSeq atomic.Uint64
	stats  counters

	trimmer *trimmer // nil without limits

	closeOnce sync.Once
	closed    atomic.Bool
}

// Open opens the bucket directory dir, creating it (and its parents) and
// recording its layout if needed.
func Open(dir string, opts Config) (*Store, error) {
	if opts.Lifetime < 0 {
		return nil, fmt.Errorf("bucket %s: negative lifetime %v", dir, opts.Lifetime)
	}
	clk := newClock(opts.Now)
	opts.Now = clk.now
	if opts.MaxBytes < 0 || opts.MaxEntries < 0 || opts.EvictionGrace < 0 || opts.TrimInterval < 0 {
		return nil, fmt.Errorf("bucket %s: negative limit in options", dir)
	}
	if opts.EvictionGrace == 0 {
		opts.EvictionGrace = time.Minute
	}
	if opts.TrimInterval == 0 {
		opts.TrimInterval = 10 * time.Second
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", dir, err)
	}
	if fi, err := os.Stat(abs); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("bucket %s: not a directory", abs)
	}
	if err := mkdirAll(abs); err != nil {
		return nil, fmt.Errorf("bucket %s: cannot create directory: %w", abs, err)
	}
	open := shard.Open
	if opts.Adopt {
		open = shard.Adopt
	}
	layout, err := open(abs, opts.Shards)
	if err != nil {
		return nil, err
	}
	root, err := posix.Open(abs, posix.O_RDONLY|posix.O_DIRECTORY|posix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", abs, err)
	}
	s := &Store{
		dir:    abs,
		opts:   opts,
		clock:  clk,
		layout: layout,
		root:   root,
		locks:  make([]*lock.DirMutex, layout.Count()),
	}
	if !s.opts.SharedFilesystem && onSharedFilesystem(root) {
		s.opts.SharedFilesystem = true
	}
	for i := range s.locks {
		s.locks[i] = lock.NewDir(root, layout.DirName(i), shard.LockName, lock.DirOptions{
			OpenDir: func() (int, error) { return s.openShardDir(i, true) },
			Fresh:   s.opts.SharedFilesystem,
			Path:    filepath.Join(abs, layout.DirName(i)),
		})
	}
	if !s.opts.SharedFilesystem {
		s.ctrs, err = shard.OpenCounters(abs, layout)
		if err != nil {
			posix.Close(root)
			return nil, err
		}
	}
	if opts.MemoryLimit >= 0 {
		limit := opts.MemoryLimit
		if limit == 0 {
			limit = DefaultMemoryLimit
		}
		s.mem = newMemory(layout.Count(), limit)
	}
	if s.limited() {
		// For tools (bucketfs stats); a read-only bucket keeps what it has.
		shard.WriteLimits(abs, shard.Limits{MaxBytes: opts.MaxBytes, MaxEntries: opts.MaxEntries})
		s.trimmer = startTrimmer(s)
	}
	return s, nil
}

// Dir is the bucket directory's absolute path.
func (s *Store) Dir() string { return s.dir }

// Layout is the bucket's shard layout.
func (s *Store) Layout() shard.Layout { return s.layout }

// Config returns the configuration the Store was opened with, defaults
// filled in.
func (s *Store) Config() Config { return s.opts }

// Now is the Store's clock.
func (s *Store) Now() time.Time { return s.opts.Now() }

// ShardOf is the shard that holds key's entry.
func (s *Store) ShardOf(key []byte) int { return s.layout.Index(shard.Hash(key)) }

// Close releases the Store's memory, mapping and descriptors, once writes
// still under way are done. Entries stay on disk. Closing a closed Store does
// nothing and returns nil; any other use of it returns ErrClosed.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.trimmer != nil {
			s.trimmer.stop()
		}
		err = nil
		for _, m := range s.locks {
			m.Close() // waits for a writer still at work in the shard
		}
		if s.ctrs != nil {
			err = s.ctrs.Close()
		}
		if e := posix.Close(s.root); e != nil && err == nil {
			err = e
		}
	})
	return err
}

func (s *Store) checkOpen() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

// pathErr wraps a system call error with the path it concerned.
func (s *Store) pathErr(op, rel string, err error) error {
	return &fs.PathError{Op: op, Path: filepath.Join(s.dir, rel), Err: err}
}
