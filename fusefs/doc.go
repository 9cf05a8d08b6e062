// Package fusefs serves a bucket directory as a read-only FUSE filesystem:
// one flat directory with a file per live entry, named and filled as
// package view says (the entry's decoded value; its metadata in extended
// attributes under "user.bucketcache.").
//
// What it promises:
//
//   - Read-only. The filesystem is mounted "ro" and every operation that
//     would change it (write, create, mkdir, mknod, unlink, rmdir, rename,
//     setattr, symlink, link, setxattr, removexattr) fails with EROFS. It
//     never writes to the bucket directory and takes no lock there, so it
//     never slows down or blocks the processes using the bucket.
//   - Live. Changes made by any process (entries added, replaced, grown,
//     deleted, expired) show within about a second: directory listings are
//     computed afresh on every read, failed lookups are not cached, names
//     are cached by the kernel for one second, and attributes are never
//     cached (every stat reads the entry file's header). The mount has no
//     lifetime of its own: it hides entries whose stored expiry has passed.
//   - Consistent reads. Opening a file takes a snapshot of the entry's
//     decoded value, verified in full (checksums, key); the open file shows
//     that snapshot until it is closed, whatever is written meanwhile, and
//     is read with direct I/O, so the kernel never cuts a read short at a
//     size it cached for an older version. A damaged entry is hidden from
//     listings and lookups alike, whatever part of it is damaged, so nothing
//     is listed that cannot be opened (listings check every entry in full
//     once per version of its file); an entry damaged after it was listed
//     or opened fails to open or read with EIO.
//   - Bounded memory, whatever the bucket's size: listings stream one shard
//     at a time, lookups decode the name instead of searching, nothing holds
//     all names or values, and large Raw and Gob values are read from the
//     entry file by offset.
//   - Confined. Paths are resolved beneath the bucket directory without
//     following symbolic links: an entry file or shard directory replaced by
//     a symlink is never followed, so nothing outside the bucket is shown.
//
// Mount does the mounting, with the checks an operator needs (a stale mount
// left by a killed server is cleared first); NewRoot gives the root node for
// callers that mount with go-fuse themselves.
package fusefs
