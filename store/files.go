package store

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bucketcache/bucketcache/entry"
	"github.com/bucketcache/bucketcache/shard"
)

// resolve: stay beneath the bucket directory and follow no symbolic link.
const resolve = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// openBeneath opens rel, a path relative to the bucket directory, without
// leaving it and without following any symbolic link.
func openBeneath(root int, rel string, flags int, mode uint32) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Mode: uint64(mode), Resolve: resolve}
	for {
		fd, err := unix.Openat2(root, rel, &how)
		if err == unix.EINTR || err == unix.EAGAIN { // EAGAIN: a rename raced the walk
			continue
		}
		if err == unix.ENOSYS { // kernels before 5.6: the final component is still never followed
			return unix.Openat(root, rel, flags|unix.O_CLOEXEC|unix.O_NOFOLLOW, mode)
		}
		return fd, err
	}
}

// fileID identifies one version of an entry file: a rename always brings a
// new inode, and a rewritten inode has a new mtime.
type fileID struct {
	ino, size uint64
	mtime     int64
}

func idOf(st *unix.Stat_t) fileID {
	return fileID{ino: st.Ino, size: uint64(st.Size), mtime: st.Mtim.Nano()}
}

// isMissing reports errors that mean "no entry here".
func isMissing(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR)
}

// readEntry reads and verifies the entry file at rel. Damage (including a
// symlink, a directory or any other non-regular file in the entry's place) is
// returned as a *entry.DamageError; absence as ErrNotFound; anything else is
// a real I/O error wrapped with the path. With stamp set, it records the read
// in the file's access time when that is due, and returns when the file was
// last used (Unix ns).
func (s *Store) readEntry(rel string, stamp bool) (entry.Entry, fileID, int64, error) {
	// On a shared filesystem an open can race another machine's rename and
	// fail with ESTALE, or (GlusterFS) with ENOENT although the name holds a
	// file before and after: retry, confirming a miss by asking the server
	// whether the name holds a file, then call it a miss, never damage. The
	// kernel may also still know the name as what it held before (GlusterFS
	// keeps a symlink another machine has since replaced for a second): a
	// file that is not regular is confirmed the same way.
	for try := 0; ; try++ {
		e, id, used, err := s.readEntryOnce(rel, stamp)
		retry := errors.Is(err, unix.ESTALE)
		if s.opts.SharedFilesystem && try < 3 {
			var st unix.Stat_t
			switch d := (*entry.DamageError)(nil); {
			case err == ErrNotFound:
				retry = s.lstatAt(s.root, rel, &st) == nil
			case errors.As(err, &d) && d.Reason == entry.ReasonNotRegular:
				retry = s.lstatAt(s.root, rel, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG
			}
		}
		if !retry {
			return e, id, used, err
		}
		if try == 3 {
			return entry.Entry{}, fileID{}, 0, ErrNotFound
		}
	}
}

func (s *Store) readEntryOnce(rel string, stamp bool) (entry.Entry, fileID, int64, error) {
	fd, err := openBeneath(s.root, rel, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW, 0)
	switch {
	case err == nil:
	case isMissing(err):
		return entry.Entry{}, fileID{}, 0, ErrNotFound
	case err == unix.ELOOP || err == unix.EXDEV:
		return entry.Entry{}, fileID{}, 0, entry.Damage(entry.ReasonNotRegular)
	default:
		return entry.Entry{}, fileID{}, 0, s.pathErr("open", rel, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return entry.Entry{}, fileID{}, 0, s.pathErr("stat", rel, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return entry.Entry{}, fileID{}, 0, entry.Damage(entry.ReasonNotRegular)
	}
	if s.opts.SharedFilesystem && st.Nlink == 0 {
		// Replaced or removed by another machine since the kernel looked
		// the name up: read what the name holds now.
		return entry.Entry{}, fileID{}, 0, s.pathErr("open", rel, unix.ESTALE)
	}
	used := recency(&st)
	if now := s.opts.Now(); stamp && s.touchDue(used, now) && stampUsedFD(fd, now) == nil {
		used = now.UnixNano()
	}
	buf := make([]byte, st.Size)
	if _, err := io.ReadFull(fdReader(fd), buf); err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return entry.Entry{}, fileID{}, 0, entry.Damage(entry.ReasonShort)
		}
		return entry.Entry{}, fileID{}, 0, s.pathErr("read", rel, err)
	}
	e, err := entry.Decode(buf)
	return e, idOf(&st), used, err
}

// statEntry returns the identity of the regular file now at rel. A stat
// reveals no content, so following a planted shard symlink here is harmless:
// its identity never matches a remembered one.
func (s *Store) statEntry(rel string) (fileID, error) {
	var st unix.Stat_t
	if err := s.lstatAt(s.root, rel, &st); err != nil {
		return fileID{}, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fileID{}, unix.EINVAL
	}
	return idOf(&st), nil
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

// fdReader reads from a raw descriptor, retrying EINTR.
type fdReader int

func (r fdReader) Read(p []byte) (int, error) {
	for {
		n, err := unix.Read(int(r), p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 && len(p) > 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

// openShardDir opens shard i's directory (creating it when create is set)
// and returns its descriptor, refusing a symlink in its place.
func (s *Store) openShardDir(i int, create bool) (int, error) {
	name := s.layout.DirName(i)
	fd, err := openBeneath(s.root, name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
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
		fd, err = openBeneath(s.root, name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	}
	if err != nil {
		if err == unix.ELOOP || err == unix.EXDEV {
			return -1, s.pathErr("open", name, errors.New("shard directory is a symbolic link; refusing to follow it"))
		}
		return -1, s.pathErr("open", name, err)
	}
	return fd, nil
}

// readDirNames lists a directory descriptor's names without closing it.
func readDirNames(dirfd int) ([]string, error) {
	dup, err := unix.Dup(dirfd)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(dup), "shard")
	defer f.Close()
	return f.Readdirnames(-1)
}

// tempName returns a fresh temporary file name for the entry hashing to h.
func (s *Store) tempName(h uint64) string {
	return shard.TempPrefix + shard.EntryName(h) + "." + pidText + "." + itoa(s.tmpSeq.Add(1))
}

var pidText = itoa(uint64(os.Getpid()))

func itoa(n uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

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
