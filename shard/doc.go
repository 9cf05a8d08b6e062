// Package shard owns the on-disk format of a bucket directory: where each
// key's file lives, what the file holds, how it is read and checked, and the
// names of every other file the format uses. Everything that reads or lays
// out a bucket (the engine, the FUSE view, the bucketfs tool) goes through
// it, so they all agree on what is live, expired, damaged and foreign.
// docs/format.md describes the same format byte by byte, for tools written
// without Go.
//
// # Layout
//
// A key's canonical bytes hash with xxhash64 (Hash). The hash picks a shard
// directory (hash modulo the shard count, in lowercase hex: Layout.DirName)
// and names the entry file (the full hash in 16 hex digits plus ".bc":
// EntryName). File names never contain key text, so no key can name a path
// outside the bucket. The shard count and the layout version are written
// once, atomically, into the metadata file BUCKETCACHE (MetaName) at the
// bucket's root by whichever process creates the bucket first (Open); every
// later Open reads them from there. Open refuses to make a bucket of a
// directory that already holds files (ErrForeign) unless asked to (Adopt).
//
// # Names
//
// In a shard directory the format uses exactly these names: entry files
// (EntryName), temporary files a writer renames over them (TempName,
// IsTempName), per-key lock files (KeyLockName, IsKeyLockName) and the
// shard's lock file (LockName). At the root: BUCKETCACHE, the mapped
// counters file (CountersName, see Counters) and the recorded size limits
// (LimitsName). A name not made by these functions is never the format's:
// nothing in this module removes or rewrites it.
//
// # Entry files
//
// An entry file is a fixed 56-byte header (magic "BKTC", version, the
// lengths, the times, two xxhash64 checksums), the codec's name, the key's
// canonical bytes and the encoded value (Append, AppendHead). It is read by
// one function, ReadEntry: the header first, by one bounded read; the
// lengths it declares are checked against the file's size before anything
// is allocated for them; then the key and, as deep as the caller asks
// (Depth), the value and the body checksum. Every way a file can fail to be
// a sound entry has a named Reason, reported as a *DamageError, and every
// reader treats it as a miss.
//
// # Damage and foreign files
//
// Damage is the format's own: a file that starts with the magic but is
// truncated, too long, corrupted, or holds a key that does not belong under
// its name, or a symbolic link in an entry's place. Such a file is removed
// by whoever finds it under the shard's lock (a Get, a prune, a
// verification). A file in an entry's place that does not start with the
// magic (of any length, empty included), or a directory, FIFO or device
// there, is foreign (Reason.Foreign): a miss all the same, but never
// removed, since it may be another program's data.
package shard
