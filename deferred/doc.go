// Package deferred batches writes to a bucket.Bucket: Sets and Deletes are
// kept in memory until Sync, which commits them per shard, taking each
// touched shard's lock once and working on several shards in parallel.
//
// What it promises.
//
//   - Before Sync, pending writes are visible only through the deferred
//     Bucket that holds them: the wrapped Bucket, other Buckets on the same
//     directory and other processes see none of them. After a successful
//     Sync they see all of them (what Sync wrote is read by every Bucket and
//     process on its next Get).
//   - Each entry is committed exactly as bucket.Bucket.Set commits one: a
//     temporary file renamed into place under the shard's lock. A crash, even
//     kill -9 in the middle of Sync, leaves every entry holding its old value
//     or its new one, never a mix. A Sync is not a transaction across entries:
//     a crash or a failing disk can leave some entries new and others old.
//   - Nothing is lost silently: when some writes fail, Sync writes all it can,
//     returns the failures joined, and keeps exactly the failed entries
//     pending, so that a later Sync can finish the job.
//   - Only what changed is written: an entry read through the deferred Bucket
//     is never written back.
//   - Values are encoded at Set time, so a value the codec refuses is an
//     error from Set, never a surprise at Sync. Expiry counts from the Set,
//     not from the Sync. The Lifetime, Codec, KeyMaker and clock are the
//     wrapped Bucket's.
//   - After a commit, the wrapped Bucket's in-memory layer holds the values
//     just written, so its next Get of them reads no file.
//
// Memory. Each pending entry holds its canonical key bytes and its encoded
// value, plus about 200 bytes of bookkeeping; a pending Delete holds its key
// and the bookkeeping. Nothing bounds this on its own: a program that defers
// an unbounded number of writes should call Sync every so often, for example
// whenever Pending reaches some count or PendingBytes some size.
//
// A Bucket is safe for concurrent use by many goroutines. Sync does not hold
// the Bucket's own lock while it writes: reads and new writes go on while it
// works, and an entry changed during a Sync stays pending with its new value.
// Syncs of one Bucket run one at a time.
package deferred
