package store

import (
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/bucketcache/bucketcache/internal/fsx"
	"github.com/bucketcache/bucketcache/internal/posix"
	"github.com/bucketcache/bucketcache/shard"
)

// readEntry reads and verifies the entry file at rel. Damage (including a
// symlink, a directory or any other non-regular file in the entry's place) is
// returned as a *shard.DamageError; absence as ErrNotFound; anything else is
// a real I/O error wrapped with the path. With stamp set, it records the read
// in the file's access time when that is due, and returns when the file was
// last used (Unix ns).
func (s *Store) readEntry(rel string, depth shard.Depth, want []byte, stamp bool) (shard.Entry, fsx.FileID, int64, error) {
	// On a shared filesystem an open can race another machine's rename and
	// fail with ESTALE, or (GlusterFS) with ENOENT although the name holds a
	// file before and after: retry, confirming a miss by asking the server
	// whether the name holds a file, then call it a miss, never damage. The
	// kernel may also still know the name as what it held before (GlusterFS
	// keeps a symlink another machine has since replaced for a second): a
	// file that is not regular is confirmed the same way.
	for try := 0; ; try++ {
		e, id, used, err := s.readEntryOnce(rel, depth, want, stamp)
		retry := errors.Is(err, posix.ESTALE)
		if s.opts.SharedFilesystem && try < 3 {
			var st posix.Stat_t
			switch d := (*shard.DamageError)(nil); {
			case err == ErrNotFound:
				retry = s.lstatAt(s.root, rel, &st) == nil
			case errors.As(err, &d) && (d.Reason == shard.ReasonSymlink || d.Reason == shard.ReasonNotRegular):
				retry = s.lstatAt(s.root, rel, &st) == nil && st.Mode&posix.S_IFMT == posix.S_IFREG
			}
		}
		if !retry {
			return e, id, used, err
		}
		if try == 3 {
			return shard.Entry{}, fsx.FileID{}, 0, ErrNotFound
		}
	}
}

func (s *Store) readEntryOnce(rel string, depth shard.Depth, want []byte, stamp bool) (shard.Entry, fsx.FileID, int64, error) {
	fd, err := fsx.OpenBeneath(s.root, rel, posix.O_RDONLY|posix.O_NONBLOCK|posix.O_NOFOLLOW, 0)
	switch {
	case err == nil:
	case fsx.IsMissing(err):
		return shard.Entry{}, fsx.FileID{}, 0, ErrNotFound
	case fsx.IsLink(err):
		return shard.Entry{}, fsx.FileID{}, 0, shard.Damage(shard.ReasonSymlink)
	default:
		return shard.Entry{}, fsx.FileID{}, 0, s.pathErr("open", rel, err)
	}
	defer posix.Close(fd)
	var st posix.Stat_t
	if err := posix.Fstat(fd, &st); err != nil {
		return shard.Entry{}, fsx.FileID{}, 0, s.pathErr("stat", rel, err)
	}
	if st.Mode&posix.S_IFMT != posix.S_IFREG {
		return shard.Entry{}, fsx.FileID{}, 0, shard.Damage(shard.ReasonNotRegular)
	}
	if s.opts.SharedFilesystem && st.Nlink == 0 {
		// Replaced or removed by another machine since the kernel looked
		// the name up: read what the name holds now.
		return shard.Entry{}, fsx.FileID{}, 0, s.pathErr("open", rel, posix.ESTALE)
	}
	used := recency(&st)
	if now := s.opts.Now(); stamp && s.touchDue(used, now) && stampUsedFD(fd, now) == nil {
		used = now.UnixNano()
	}
	e, err := shard.ReadEntry(fsx.File(fd), st.Size, depth, want)
	if err != nil && !shard.IsDamage(err) {
		err = s.pathErr("read", rel, err)
	}
	return e, fsx.IDOf(&st), used, err
}

// statEntry returns the identity of the regular file now at rel. A stat
// reveals no content, so following a planted shard symlink here is harmless:
// its identity never matches a remembered one.
func (s *Store) statEntry(rel string) (fsx.FileID, error) {
	var st posix.Stat_t
	if err := s.lstatAt(s.root, rel, &st); err != nil {
		return fsx.FileID{}, err
	}
	if st.Mode&posix.S_IFMT != posix.S_IFREG {
		return fsx.FileID{}, posix.EINVAL
	}
	return fsx.IDOf(&st), nil
}

// lstatAt stats name in dirfd without following a final symbolic link, for
// a decision about which file the name holds now. On a shared filesystem
// the kernel may answer a plain stat from the names and attributes it
// cached (a GlusterFS mount caches both for a second), so another machine's
// rename or removal would go unseen: there it asks the server every time
// (statx with AT_STATX_FORCE_SYNC; a name whose file was replaced is looked
// up again). A file that no name holds any more (this machine still has it
// open, so the server answers for it) is reported as ESTALE. It fills only
// the fields the store uses: Mode, Ino, Size, Atim and Mtim.
func (s *Store) lstatAt(dirfd int, name string, st *posix.Stat_t) error {
	if !s.opts.SharedFilesystem {
		return posix.Fstatat(dirfd, name, st, posix.AT_SYMLINK_NOFOLLOW)
	}
	var x posix.Statx_t
	err := posix.Statx(dirfd, name, posix.AT_SYMLINK_NOFOLLOW|posix.AT_STATX_FORCE_SYNC, posix.STATX_BASIC_STATS, &x)
	if err == posix.ENOSYS { // kernels before 4.11
		return posix.Fstatat(dirfd, name, st, posix.AT_SYMLINK_NOFOLLOW)
	}
	if err != nil {
		return err
	}
	if x.Mask&posix.STATX_NLINK != 0 && x.Nlink == 0 {
		return posix.ESTALE
	}
	*st = posix.StatOfStatx(&x)
	return nil
}

// openShardDir opens shard i's directory (creating it when create is set)
// and returns its descriptor, refusing a symlink in its place.
func (s *Store) openShardDir(i int, create bool) (int, error) {
	name := s.layout.DirName(i)
	fd, err := fsx.OpenBeneath(s.root, name, posix.O_RDONLY|posix.O_DIRECTORY, 0)
	// On a shared filesystem another machine may be making the directory
	// at the same moment: GlusterFS then fails this mkdir with EEXIST a few
	// milliseconds before a lookup finds the directory, and an open of the
	// directory it has just made can fail with ESTALE. Retry briefly.
	for try := 0; (err == posix.ENOENT && create || err == posix.ESTALE) && try < 500; try++ {
		if try > 0 {
			time.Sleep(time.Millisecond)
		}
		if err == posix.ENOENT {
			if err := posix.Mkdirat(s.root, name, 0o777); err != nil && err != posix.EEXIST {
				return -1, s.pathErr("mkdir", name, err)
			}
		}
		fd, err = fsx.OpenBeneath(s.root, name, posix.O_RDONLY|posix.O_DIRECTORY, 0)
	}
	if err != nil {
		if fsx.IsLink(err) {
			return -1, s.pathErr("open", name, errors.New("shard directory is a symbolic link; refusing to follow it"))
		}
		return -1, s.pathErr("open", name, err)
	}
	return fd, nil
}

// tempName returns a fresh temporary file name for the entry hashing to h.
func (s *Store) tempName(h uint64) string {
	return shard.TempName(h, pid, s.tmpSeq.Add(1))
}

var pid = os.Getpid()

// onSharedFilesystem reports whether dirfd is on a filesystem that several
// machines may mount.
func onSharedFilesystem(dirfd int) bool {
	_, shared := fsx.SharedFilesystem(dirfd)
	return shared
}

// mkdirAll is os.MkdirAll, retried briefly when another machine making the
// same directories at the same moment gets in the way: on GlusterFS, a
// mkdir racing another machine's fails with EEXIST a few milliseconds before
// lookups find the directory, and one racing the creation of its parent
// can fail with ENOENT or ESTALE.
func mkdirAll(dir string) error {
	err := os.MkdirAll(dir, 0o777)
	for try := 0; try < 500 && (errors.Is(err, fs.ErrExist) ||
		errors.Is(err, posix.ENOENT) || errors.Is(err, posix.ESTALE)); try++ {
		time.Sleep(time.Millisecond)
		err = os.MkdirAll(dir, 0o777)
	}
	return err
}
