package store

import (
	"errors"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bucketcache/bucketcache/internal/fsx"
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
		retry := errors.Is(err, unix.ESTALE)
		if s.opts.SharedFilesystem && try < 3 {
			var st unix.Stat_t
			switch d := (*shard.DamageError)(nil); {
			case err == ErrNotFound:
				retry = s.lstatAt(s.root, rel, &st) == nil
			case errors.As(err, &d) && (d.Reason == shard.ReasonSymlink || d.Reason == shard.ReasonNotRegular):
				retry = s.lstatAt(s.root, rel, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG
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
	fd, err := fsx.OpenBeneath(s.root, rel, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW, 0)
	switch {
	case err == nil:
	case fsx.IsMissing(err):
		return shard.Entry{}, fsx.FileID{}, 0, ErrNotFound
	case fsx.IsLink(err):
		return shard.Entry{}, fsx.FileID{}, 0, shard.Damage(shard.ReasonSymlink)
	default:
		return shard.Entry{}, fsx.FileID{}, 0, s.pathErr("open", rel, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return shard.Entry{}, fsx.FileID{}, 0, s.pathErr("stat", rel, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return shard.Entry{}, fsx.FileID{}, 0, shard.Damage(shard.ReasonNotRegular)
	}
	if s.opts.SharedFilesystem && st.Nlink == 0 {
		// Replaced or removed by another machine since the kernel looked
		// the name up: read what the name holds now.
		return shard.Entry{}, fsx.FileID{}, 0, s.pathErr("open", rel, unix.ESTALE)
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
	var st unix.Stat_t
	if err := s.lstatAt(s.root, rel, &st); err != nil {
		return fsx.FileID{}, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fsx.FileID{}, unix.EINVAL
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
func (s *Store) lstatAt(dirfd int, name string, st *unix.Stat_t) error {
	if !s.opts.SharedFilesystem {
		return unix.Fstatat(dirfd, name, st, unix.AT_SYMLINK_NOFOLLOW)
	}
	var x unix.Statx_t
	err := unix.Statx(dirfd, name, unix.AT_SYMLINK_NOFOLLOW|unix.AT_STATX_FORCE_SYNC, unix.STATX_BASIC_STATS, &x)
	if err == unix.ENOSYS { // kernels before 4.11
		return unix.Fstatat(dirfd, name, st, unix.AT_SYMLINK_NOFOLLOW)
	}
	if err != nil {
		return err
	}
	if x.Mask&unix.STATX_NLINK != 0 && x.Nlink == 0 {
		return unix.ESTALE
	}
	*st = unix.Stat_t{Mode: uint32(x.Mode), Ino: x.Ino, Size: int64(x.Size)}
	st.Atim = unix.NsecToTimespec(x.Atime.Sec*1e9 + int64(x.Atime.Nsec))
	st.Mtim = unix.NsecToTimespec(x.Mtime.Sec*1e9 + int64(x.Mtime.Nsec))
	return nil
}

// openShardDir opens shard i's directory (creating it when create is set)
// and returns its descriptor, refusing a symlink in its place.
func (s *Store) openShardDir(i int, create bool) (int, error) {
	name := s.layout.DirName(i)
	fd, err := fsx.OpenBeneath(s.root, name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	// On a shared filesystem another machine may be making the directory
	// at the same moment: GlusterFS then fails this mkdir with EEXIST a few
	// milliseconds before a lookup finds the directory, and an open of the
	// directory it has just made can fail with ESTALE. Retry briefly.
	for try := 0; (err == unix.ENOENT && create || err == unix.ESTALE) && try < 500; try++ {
		if try > 0 {
			time.Sleep(time.Millisecond)
		}
		if err == unix.ENOENT {
			if err := unix.Mkdirat(s.root, name, 0o777); err != nil && err != unix.EEXIST {
				return -1, s.pathErr("mkdir", name, err)
			}
		}
		fd, err = fsx.OpenBeneath(s.root, name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
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

// Filesystem magic numbers (statfs f_type) of filesystems that several
// machines may mount at once.
var sharedFilesystems = map[int64]string{
	0x6969:     "nfs",
	0xff534d42: "cifs",
	0xfe534d42: "smb2",
	0x517b:     "smb",
	0x65735546: "fuse", // GlusterFS, sshfs, ... (FUSE hides which)
	0x00c36400: "ceph",
	0x0bd00bd0: "lustre",
	0x01021997: "9p",
	0x5346414f: "afs",
	0x47504653: "gpfs",
}

// onSharedFilesystem reports whether dirfd is on a filesystem that several
// machines may mount.
func onSharedFilesystem(dirfd int) bool {
	var st unix.Statfs_t
	if unix.Fstatfs(dirfd, &st) != nil {
		return false
	}
	_, shared := sharedFilesystems[int64(st.Type)]
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
		errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESTALE)); try++ {
		time.Sleep(time.Millisecond)
		err = os.MkdirAll(dir, 0o777)
	}
	return err
}
