// Package posix is the one owner of the system calls the engine, the view
// and package lock make on a bucket directory: descriptors, *at calls, stat,
// flock, file times and mappings, named as in golang.org/x/sys/unix.
//
// On unix systems the names are that package's own calls, so the Linux fast
// path costs nothing. Two Linux calls have no equal elsewhere: statx (used
// to ask a network filesystem's server rather than the kernel's cache) and
// AT_EMPTY_PATH. Elsewhere, and on Linux when built with the
// bucketcache_portable tag, Statx returns ENOSYS, which every caller already
// answers with fstatat, and Fstatat accepts AT_EMPTY_PATH itself.
//
// On Windows, descriptors are small integers naming open handles; a
// directory descriptor remembers the directory's path, and the *at calls
// resolve names against it. Files are opened with FILE_SHARE_DELETE, so a
// file may be renamed over or removed while readers hold it open, as on
// unix; a rename that Windows refuses for a moment (a reader without that
// sharing, an antivirus scanner) is retried for a bounded time. flock is
// LockFileEx on the first byte, as github.com/gofrs/flock does, so both
// exclude each other.
package posix
