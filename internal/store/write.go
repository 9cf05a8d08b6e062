package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"github.com/bucketcache/bucketcache/internal/fsx"
	"github.com/bucketcache/bucketcache/internal/posix"
	"github.com/bucketcache/bucketcache/lock"
	"github.com/bucketcache/bucketcache/shard"
)

// Item is one change for WriteShard: the entry Key gets Record, or, when
// Delete is set, is removed.
type Item struct {
	Key []byte
	Record
	Delete bool
	// Owned gives Value to the Store, which may then keep it in memory as
	// it is: the caller never changes it again. Without it, the Store keeps
	// no reference to Value (and keeps a large one in memory only from its
	// first read).
	Owned bool
}

// Put writes key's record, replacing any entry for key. rec.WrittenAt zero
// means now; rec.ExpiresAt zero means never. On failure the previous entry
// stays readable, on disk and in memory. Put keeps no reference to key or
// rec.Value.
func (s *Store) Put(key []byte, rec Record) error {
	return s.PutContext(context.Background(), key, rec, false)
}

// PutContext is Put, or PutOwned when owned is set, waiting for the shard's
// lock only until ctx ends: then it returns ctx.Err(), wrapped, having
// changed nothing.
func (s *Store) PutContext(ctx context.Context, key []byte, rec Record, owned bool) error {
	i := s.layout.Index(shard.Hash(key))
	return s.WriteShardContext(ctx, i, []Item{{Key: key, Record: rec, Owned: owned}})[0]
}

// PutOwned is Put of a rec.Value that the caller gives to the Store and
// never changes again (a freshly encoded value): the Store may keep it in
// memory as it is, without a copy, however large.
func (s *Store) PutOwned(key []byte, rec Record) error {
	return s.PutContext(context.Background(), key, rec, true)
}

// WriteShard applies items, which must all belong to shard i (see ShardOf),
// in order, under a single acquisition of the shard's lock. Each write is
// atomic, as by Put; a delete of an absent entry is not an error. It returns
// one error per item, nil where the change was made. Package deferred commits
// its batches with it.
func (s *Store) WriteShard(i int, items []Item) []error {
	return s.WriteShardContext(context.Background(), i, items)
}

// WriteShardContext is WriteShard, waiting for the shard's lock only until
// ctx ends: then every item fails with ctx.Err(), wrapped, and nothing is
// changed.
func (s *Store) WriteShardContext(ctx context.Context, i int, items []Item) []error {
	errs := make([]error, len(items))
	fail := func(err error) []error {
		for j := range errs {
			if errs[j] == nil {
				errs[j] = err
			}
		}
		return errs
	}
	if err := s.checkOpen(); err != nil {
		return fail(err)
	}
	if err := ctx.Err(); err != nil {
		return fail(fmt.Errorf("store: shard %d not written: %w", i, err))
	}
	now := s.opts.Now()
	heads := make([][]byte, len(items)) // each entry's head, or all of it for a small value
	for j, it := range items {
		if s.layout.Index(shard.Hash(it.Key)) != i {
			errs[j] = fmt.Errorf("store: key belongs to shard %d, not %d", s.layout.Index(shard.Hash(it.Key)), i)
			continue
		}
		if it.Delete {
			continue
		}
		if err := shard.Check(it.Codec, it.Key); err != nil {
			errs[j] = err
			continue
		}
		written := it.WrittenAt
		if written.IsZero() {
			written = now
		}
		var exp int64
		if !it.ExpiresAt.IsZero() {
			exp = it.ExpiresAt.UnixNano()
		}
		if separate(it) {
			heads[j] = shard.AppendHead(nil, it.Codec, written.UnixNano(), exp, it.Key, it.Value)
		} else {
			heads[j] = shard.Append(nil, it.Codec, written.UnixNano(), exp, it.Key, it.Value)
		}
	}
	dirfd, unlock, err := s.lockShard(ctx, i)
	if err != nil {
		return fail(err)
	}
	defer unlock()
	for j, head := range heads {
		switch {
		case errs[j] != nil:
		case items[j].Delete:
			var removed bool
			removed, errs[j] = s.removeLocked(i, dirfd, shard.EntryName(shard.Hash(items[j].Key)))
			if removed {
				s.stats.deletes.Add(1)
			}
		case separate(items[j]):
			errs[j] = s.writeLocked(i, dirfd, head, items[j].Value, items[j].Owned)
		default:
			errs[j] = s.writeLocked(i, dirfd, head, nil, false)
		}
	}
	if s.trimmer != nil {
		s.trimmer.poke()
	}
	return errs
}

// removeLocked removes the file named name (an entry file, or a symlink in
// an entry's place) from shard i, whose lock the caller holds, keeping the
// usage counters and the memory layer in step. It reports whether there was a
// file; an absent one is not an error.
func (s *Store) removeLocked(i, dirfd int, name string) (bool, error) {
	s.beginChange(i)
	size, regular := int64(0), true
	if s.limited() {
		size, regular = sizeAt(dirfd, name)
	}
	err := posix.Unlinkat(dirfd, name, 0)
	if testHookRemoved != nil {
		testHookRemoved()
	}
	s.endChange(i)
	if err == nil && regular {
		s.account(i, dirfd, -size, -1)
	}
	if h, ok := shard.ParseEntryName(name); ok && s.mem != nil {
		s.mem.forget(i, h)
	}
	if err == posix.ENOENT {
		return false, nil
	}
	if err != nil {
		return false, s.pathErr("remove", s.shardRel(i, name), err)
	}
	return true, nil
}

// largeValue is the size from which a value the caller keeps (not Owned)
// is written straight from the caller's bytes, after its entry's head,
// rather than copied into one buffer with it; it is then kept in memory only
// from its first read.
const largeValue = 64 << 10

// separate reports whether an item's value is written from its own bytes,
// after the entry's head (one writev), rather than copied into one buffer
// with the head: a value the Store is given (it keeps it in memory as it
// is), and a large one.
func separate(it Item) bool { return it.Owned || len(it.Value) >= largeValue }

// writeLocked writes one encoded entry into shard i, whose lock the caller
// holds and whose directory is open as dirfd: head, then value (nil when
// head is the whole entry). The memory layer keeps the value from head, or
// value itself when owned says it may.
func (s *Store) writeLocked(i, dirfd int, head, value []byte, owned bool) error {
	hdr, key := shard.HeadOf(head)
	size := int64(len(head) + len(value))
	h := shard.Hash(key)
	name := shard.EntryName(h)
	tmp := s.tempName(h)
	fd, err := posix.Openat(dirfd, tmp, posix.O_WRONLY|posix.O_CREAT|posix.O_EXCL|posix.O_NOFOLLOW|posix.O_CLOEXEC, 0o666)
	if err != nil {
		return s.pathErr("create", s.shardRel(i, tmp), err)
	}
	// The memory layer keeps a copy with the file's identity and when it was
	// last used. Where the shared counters validate copies, the identity is
	// asked for only once another writer has changed the shard, and what
	// the writer knows (size and modification time, see fsx.FileID.Same)
	// does without a stat on every write.
	now := s.opts.Now()
	id, used := fsx.FileID{Size: size}, now.UnixNano()
	err = writeAll(fd, head, value)
	if err == nil {
		id.Mtime, err = stampTimes(fd, now, hdr.ExpiresAt)
	}
	if err == nil && s.opts.Durable {
		err = posix.Fsync(fd)
	}
	if err == nil && s.mem != nil && s.ctrs == nil {
		var st posix.Stat_t
		if err = posix.Fstat(fd, &st); err == nil {
			id, used = fsx.IDOf(&st), recency(&st)
		}
	}
	if cerr := posix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		posix.Unlinkat(dirfd, tmp, 0)
		return s.pathErr("write", s.shardRel(i, tmp), err)
	}
	s.beginChange(i)
	oldSize, existed := int64(0), false
	if s.limited() {
		oldSize, existed = sizeAt(dirfd, name)
	}
	err = posix.Renameat(dirfd, tmp, dirfd, name)
	if err == nil && s.opts.Durable {
		err = posix.Fsync(dirfd)
	}
	gen := s.endChange(i)
	if err != nil {
		posix.Unlinkat(dirfd, tmp, 0)
		return s.pathErr("rename", s.shardRel(i, name), err)
	}
	if existed {
		s.account(i, dirfd, size-oldSize, 0)
	} else {
		s.account(i, dirfd, size, 1)
	}
	s.stats.sets.Add(1)
	switch {
	case s.mem == nil:
	case value != nil && !owned || !WorthKeeping(hdr.Codec, int(hdr.ValueLen)):
		s.mem.forget(i, h) // an older copy must not outlive the file it came from
	default:
		if value == nil {
			value = head[hdr.ValueOffset():]
		}
		rec := recordOf(shard.Entry{Header: hdr, Key: key, Value: value})
		rec.Slot = new(Slot)
		s.mem.put(i, h, key, rec, gen, id, used)
	}
	return nil
}

// shardRel is the path of name in shard i, relative to the bucket directory
// (for errors).
func (s *Store) shardRel(i int, name string) string {
	return s.layout.DirName(i) + "/" + name
}

// writeAll writes the pieces to fd one after the other, in as few calls as
// the kernel allows.
func writeAll(fd int, pieces ...[]byte) error {
	pieces = slices.DeleteFunc(pieces, func(b []byte) bool { return len(b) == 0 })
	for {
		var n int
		var err error
		switch len(pieces) {
		case 0:
			return nil
		case 1:
			n, err = posix.Write(fd, pieces[0])
		default:
			n, err = posix.Writev(fd, pieces)
		}
		if err == posix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrShortWrite
		}
		for n > 0 {
			k := min(n, len(pieces[0]))
			pieces[0] = pieces[0][k:]
			n -= k
			if len(pieces[0]) == 0 {
				pieces = pieces[1:]
			}
		}
	}
}

// Delete removes key's entry. It returns ErrNotFound when Get would not find
// it; an entry whose own expiry has passed is removed all the same.
func (s *Store) Delete(key []byte) error { return s.DeleteContext(context.Background(), key) }

// DeleteContext is Delete, waiting for the shard's lock only until ctx
// ends: then it returns ctx.Err(), wrapped, having removed nothing.
func (s *Store) DeleteContext(ctx context.Context, key []byte) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: not deleted: %w", err)
	}
	h := shard.Hash(key)
	i := s.layout.Index(h)
	dirfd, unlock, err := s.lockShard(ctx, i)
	if err != nil {
		if errors.Is(err, posix.ENOENT) {
			return ErrNotFound
		}
		return err
	}
	defer unlock()
	s.Forget(key)
	e, _, _, err := s.readEntry(s.layout.EntryPath(h), shard.Checked, key, false)
	switch r := shard.ReasonOf(err); {
	case r == shard.ReasonKey || r.Foreign():
		return ErrNotFound // another key's entry, or not ours to remove
	case err != nil && r == "":
		return err // ErrNotFound for no file, or an I/O error
	case err == nil && s.tooOld(recordOf(e), s.opts.Now()) && !recordOf(e).Expired(s.opts.Now()):
		return ErrNotFound // invisible to this Store, but live for others
	}
	found := err == nil && !recordOf(e).Expired(s.opts.Now())
	if _, err := s.removeLocked(i, dirfd, shard.EntryName(h)); err != nil {
		return err
	}
	if !found {
		return ErrNotFound
	}
	s.stats.deletes.Add(1)
	return nil
}

// removeIfSame removes shard i's entry for hash h if it is still the file id
// (an expired entry seen by a reader), and not one written since.
func (s *Store) removeIfSame(i int, h uint64, id fsx.FileID) {
	dirfd, unlock, err := s.lockShard(context.Background(), i)
	if err != nil {
		return
	}
	defer unlock()
	var st posix.Stat_t
	if s.lstatAt(dirfd, shard.EntryName(h), &st) != nil || fsx.IDOf(&st) != id {
		return
	}
	s.removeLocked(i, dirfd, shard.EntryName(h))
}

// lockShard takes shard i's exclusive lock and returns the shard's
// directory, open (created if needed; never a symlink in its place, never a
// directory that the shard's name no longer holds), until unlock is called.
// The lock keeps the directory and its lock file open between calls.
func (s *Store) lockShard(ctx context.Context, i int) (dirfd int, unlock func(), err error) {
	m := s.locks[i]
	dirfd, err = m.Lock(ctx)
	if errors.Is(err, lock.ErrClosed) {
		return -1, nil, ErrClosed
	}
	if ctxErr := ctx.Err(); err != nil && ctxErr != nil && errors.Is(err, ctxErr) {
		return -1, nil, fmt.Errorf("store: waiting for the lock of shard %d: %w", i, err)
	}
	if err != nil {
		return -1, nil, err
	}
	s.stats.shardLocks.Add(1)
	if s.ctrs != nil {
		s.ctrs.CheckPath() // changes must reach the counters file others map
	}
	return dirfd, func() { m.Unlock() }, nil
}

func (s *Store) beginChange(i int) {
	if s.ctrs != nil {
		s.ctrs.Begin(i)
	}
}

func (s *Store) endChange(i int) uint64 {
	if s.ctrs != nil {
		g := s.ctrs.End(i)
		return g + s.ctrs.Remaps()<<48 // as generation returns it
	}
	return 0
}

// KeyLockPath returns the path of the lock file that guards work on key
// itself (memoized computations), creating key's shard directory if needed.
// Prune and Clear never touch such files; whoever uses them must remove them
// safely (see lock.Mutex).
func (s *Store) KeyLockPath(key []byte) (string, error) {
	h := shard.Hash(key)
	i := s.layout.Index(h)
	fd, err := s.openShardDir(i, true) // refuses a symlinked shard directory
	if err != nil {
		return "", err
	}
	posix.Close(fd)
	return filepath.Join(s.dir, s.layout.DirName(i), shard.KeyLockName(h)), nil
}

// testHookRemoved, when set by a test, runs between the removal of a file
// and the end of the change (a crash there leaves the counters in doubt).
var testHookRemoved func()

// sizeAt returns the size of the regular file name in dirfd, and whether
// there is one.
func sizeAt(dirfd int, name string) (int64, bool) {
	var st posix.Stat_t
	if posix.Fstatat(dirfd, name, &st, posix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&posix.S_IFMT != posix.S_IFREG {
		return 0, false
	}
	return st.Size, true
}
