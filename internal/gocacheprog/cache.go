package gocacheprog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bucketcache/bucketcache/bucket"
)

// idSize is the size of ActionIDs and OutputIDs: SHA-256 sums.
const idSize = sha256.Size

// id is an ActionID or an OutputID.
type id = [idSize]byte

// Options configure a Cache. The zero value is ready to use.
type Options struct {
	// Local is the directory of the files handed to the go command
	// (DiskPath). "": DefaultLocalDir().
	Local string
	// LocalMaxAge is how long a local file may go unused before a Close
	// removes it (see the package documentation). 0: 24 hours.
	LocalMaxAge time.Duration

	// MaxBytes bounds the bucket directory (bucket.Options.MaxBytes; 0:
	// unlimited). Every process sharing the directory should use the same.
	MaxBytes int64
	// EvictionGrace is bucket.Options.EvictionGrace (0: one minute).
	EvictionGrace time.Duration
	// SharedFilesystem is bucket.Options.SharedFilesystem: the bucket is on
	// a filesystem several machines mount. Open turns it on by itself on
	// network and FUSE filesystems.
	SharedFilesystem bool

	// Log receives warnings (a failed write to the bucket, damage met).
	// nil: they are dropped.
	Log io.Writer
	// Now is the clock. nil: time.Now.
	Now func() time.Time
}

// maxWarnings is how many warnings of each kind a Cache logs.
const maxWarnings = 3

// pendingWrites bounds the puts whose bucket writes run after their
// response, so that a fast sender cannot pile up bodies in memory.
const pendingWrites = 8

// Cache is a build cache on a bucket directory. Its methods are safe for
// concurrent use.
type Cache struct {
	b     *bucket.Bucket[string, []byte]
	local *localDir
	opts  Options

	writes chan struct{} // a slot per bucket write under way after its response

	mu  sync.Mutex
	put map[id]action // guarded by mu: actions put by this Cache, for gets that race their bucket writes

	stats    counters
	warnings [numWarnKinds]atomic.Int32
}

// action is an action entry: what an ActionID produced.
type action struct {
	OutputID id
	Size     int64
	Time     time.Time
}

// actionRecord is an action entry as stored in the bucket.
type actionRecord struct {
	OutputID string // hex
	Size     int64
	Time     time.Time
}

// Open opens the bucket directory dir (creating it if needed) and the local
// directory as a build cache.
func Open(dir string, opts Options) (*Cache, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Local == "" {
		d, err := DefaultLocalDir()
		if err != nil {
			return nil, err
		}
		opts.Local = d
	}
	if opts.LocalMaxAge == 0 {
		opts.LocalMaxAge = 24 * time.Hour
	}
	if opts.MaxBytes < 0 || opts.EvictionGrace < 0 || opts.LocalMaxAge < 0 {
		return nil, fmt.Errorf("gocacheprog: negative MaxBytes, EvictionGrace or LocalMaxAge")
	}
	local, err := openLocal(opts.Local, opts.Now)
	if err != nil {
		return nil, err
	}
	b, err := bucket.Open[string, []byte](dir, bucket.Options{
		Codec:            bucket.Raw,
		MemoryLimit:      -1, // each entry is read once a process: a copy in memory would only cost
		MaxBytes:         opts.MaxBytes,
		EvictionGrace:    opts.EvictionGrace,
		SharedFilesystem: opts.SharedFilesystem,
		Now:              opts.Now,
	})
	if err != nil {
		local.lock.Close()
		return nil, err
	}
	return &Cache{
		b:      b,
		local:  local,
		opts:   opts,
		writes: make(chan struct{}, pendingWrites),
		put:    make(map[id]action),
	}, nil
}

// DefaultLocalDir is the local directory used when Options.Local is "":
// bucketcache/gocacheprog in the user's cache directory (os.UserCacheDir).
func DefaultLocalDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("gocacheprog: no local directory given, and no user cache directory: %w", err)
	}
	return filepath.Join(d, "bucketcache", "gocacheprog"), nil
}

// LocalDir is the local directory's absolute path.
func (c *Cache) LocalDir() string { return c.local.dir }

// Close waits for the bucket writes under way, trims the bucket if it is
// over its size limit (on a local filesystem: on a shared one, where a
// trim scans the directory over the network, trims run in the background
// at most once per ten seconds, by whichever process gets to it), removes
// local files unused for LocalMaxAge if no other Cache is using the local
// directory, and closes the bucket.
func (c *Cache) Close() error {
	for range pendingWrites {
		c.writes <- struct{}{}
	}
	var errs []error
	if c.opts.MaxBytes > 0 && !c.b.Options().SharedFilesystem {
		// Usage unknown: a Bucket without a limit wrote to the directory
		// (the trim recounts it).
		if u := c.b.Usage(); !u.Known || u.Bytes > c.opts.MaxBytes {
			if _, err := c.b.Trim(context.Background()); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := c.local.close(c.opts.LocalMaxAge); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.b.Close())
	return errors.Join(errs...)
}

func actionKey(a id) string { return "action-" + hex.EncodeToString(a[:]) }
func outputKey(o id) string { return "output-" + hex.EncodeToString(o[:]) }

// Entry is what a get hit returns.
type Entry struct {
	OutputID [idSize]byte
	Size     int64
	Time     time.Time
	DiskPath string // the local file holding the output
}

// Get looks up actionID. It returns ok false for a miss: no action, no
// output, or a damaged one. A failure to read (other than damage) is also a
// miss, with the error returned beside it for the log.
func (c *Cache) Get(actionID [idSize]byte) (e Entry, ok bool, err error) {
	c.stats.gets.Add(1)
	defer func() {
		if ok {
			c.stats.hits.Add(1)
			c.stats.hitBytes.Add(e.Size)
		}
	}()
	a, ok, err := c.action(actionID)
	if !ok {
		return Entry{}, false, err
	}
	e = Entry{OutputID: a.OutputID, Size: a.Size, Time: a.Time}
	if e.DiskPath, ok = c.local.find(a.OutputID, a.Size); ok {
		return e, true, nil
	}
	body, err := c.b.Get(outputKey(a.OutputID))
	if errors.Is(err, bucket.ErrNotFound) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, err
	}
	if int64(len(body)) != a.Size || sha256.Sum256(body) != a.OutputID {
		c.stats.damaged.Add(1)
		c.warn(warnDamage, "output %x: its bytes do not match their OutputID (%d bytes, want %d): a miss", a.OutputID, len(body), a.Size)
		return Entry{}, false, nil
	}
	if e.DiskPath, err = c.local.write(a.OutputID, body); err != nil {
		return Entry{}, false, err
	}
	return e, true, nil
}

// action reads the action entry of actionID.
func (c *Cache) action(actionID id) (action, bool, error) {
	c.mu.Lock()
	a, ok := c.put[actionID]
	c.mu.Unlock()
	if ok {
		return a, true, nil
	}
	data, err := c.b.Get(actionKey(actionID))
	if errors.Is(err, bucket.ErrNotFound) {
		return action{}, false, nil
	}
	if err != nil {
		return action{}, false, err
	}
	a, err = parseAction(data)
	if err != nil {
		c.stats.damaged.Add(1)
		c.warn(warnDamage, "action %x: %v: a miss", actionID, err)
		return action{}, false, nil
	}
	return a, true, nil
}

// parseAction decodes and checks an action record.
func parseAction(data []byte) (action, error) {
	var r actionRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return action{}, fmt.Errorf("malformed action record: %w", err)
	}
	var a action
	if n, err := hex.Decode(a.OutputID[:], []byte(r.OutputID)); err != nil || n != idSize || len(r.OutputID) != 2*idSize {
		return action{}, fmt.Errorf("malformed OutputID %q", r.OutputID)
	}
	if r.Size < 0 {
		return action{}, fmt.Errorf("negative size %d", r.Size)
	}
	a.Size, a.Time = r.Size, r.Time
	return a, nil
}

// Put stores body as the output of actionID: it checks body against
// outputID, writes the local file, writes the output and the action to the
// bucket, and returns the local file's path. A failed bucket write is
// counted and logged, not returned: the local file is what the go command
// needs, and the cache is only the poorer by one entry.
func (c *Cache) Put(actionID, outputID [idSize]byte, body []byte) (string, error) {
	return c.putThen(actionID, outputID, body, func(write func()) { write() })
}

// putThen is Put, with the bucket writes passed to then, which runs them
// (or has them run) after the response is sent.
func (c *Cache) putThen(actionID, outputID id, body []byte, then func(write func())) (string, error) {
	if sha256.Sum256(body) != outputID {
		return "", fmt.Errorf("gocacheprog: put of action %x: the body (%d bytes) does not hash to its OutputID %x", actionID, len(body), outputID)
	}
	path, err := c.local.write(outputID, body)
	if err != nil {
		return "", err
	}
	a := action{OutputID: outputID, Size: int64(len(body)), Time: c.opts.Now()}
	c.mu.Lock()
	c.put[actionID] = a
	c.mu.Unlock()
	c.stats.puts.Add(1)
	c.stats.putBytes.Add(a.Size)

	c.writes <- struct{}{}
	write := func() {
		defer func() { <-c.writes }()
		if err := c.store(actionID, a, body); err != nil {
			c.stats.errors.Add(1)
			c.warn(warnWrite, "%v", err)
		}
	}
	then(write)
	return path, nil
}

// store writes an output, then its action, to the bucket.
func (c *Cache) store(actionID id, a action, body []byte) error {
	if err := c.b.Set(outputKey(a.OutputID), body); err != nil {
		return fmt.Errorf("storing output %x: %w", a.OutputID, err)
	}
	rec, err := json.Marshal(actionRecord{OutputID: hex.EncodeToString(a.OutputID[:]), Size: a.Size, Time: a.Time})
	if err != nil {
		return err
	}
	if err := c.b.Set(actionKey(actionID), rec); err != nil {
		return fmt.Errorf("storing action %x: %w", actionID, err)
	}
	return nil
}

// warnKind is a kind of warning, each logged at most maxWarnings times.
type warnKind int

const (
	warnDamage warnKind = iota
	warnWrite
	warnRead
	numWarnKinds
)

func (c *Cache) warn(kind warnKind, format string, args ...any) {
	n := c.warnings[kind].Add(1)
	if n > maxWarnings {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if n == maxWarnings {
		msg += " (further warnings of this kind are not shown)"
	}
	fmt.Fprintf(c.opts.Log, "gocacheprog: %s\n", msg)
}
