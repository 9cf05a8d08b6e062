//go:build !linux || bucketcache_portable

package posix

// Portable reports whether this build uses the portable path (no statx).
const Portable = true

// Flags of Linux's statx and fstatat that the portable path accepts:
// AT_EMPTY_PATH is honoured by Fstatat (it stats dirfd itself), and
// AT_STATX_FORCE_SYNC only ever reaches Statx, which is absent.
const (
	AT_EMPTY_PATH       = 1 << 28
	AT_STATX_FORCE_SYNC = 1 << 29

	STATX_TYPE        = 0x1
	STATX_NLINK       = 0x4
	STATX_INO         = 0x100
	STATX_BASIC_STATS = 0x7ff
)

// StatxTimestamp is a time in a Statx_t.
type StatxTimestamp struct {
	Sec  int64
	Nsec uint32
}

// Statx_t has the fields of Linux's statx result that callers read.
type Statx_t struct {
	Mask      uint32
	Mode      uint16
	Nlink     uint32
	Ino       uint64
	Size      uint64
	Atime     StatxTimestamp
	Mtime     StatxTimestamp
	Dev_major uint32
	Dev_minor uint32
}

// Statx is absent: it returns ENOSYS, as Linux before 4.11 does, and
// callers fall back to fstatat.
func Statx(dirfd int, path string, flags int, mask int, stat *Statx_t) error {
	return ENOSYS
}

// StatOfStatx fills the fields of a Stat_t that a statx result holds:
// Mode, Ino, Size, Atim and Mtim.
func StatOfStatx(x *Statx_t) Stat_t {
	st := Stat_t{Ino: x.Ino, Size: int64(x.Size)}
	setMode(&st.Mode, x.Mode)
	st.Atim = NsecToTimespec(x.Atime.Sec*1e9 + int64(x.Atime.Nsec))
	st.Mtim = NsecToTimespec(x.Mtime.Sec*1e9 + int64(x.Mtime.Nsec))
	return st
}

// setMode sets a mode field whatever its width on this system.
func setMode[T ~uint16 | ~uint32](m *T, v uint16) { *m = T(v) }
