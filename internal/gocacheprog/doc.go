// Package gocacheprog keeps the go command's build cache in a bucket: it
// serves the GOCACHEPROG protocol (see the go command's source,
// cmd/go/internal/cacheprog) on top of package bucket, so that many go
// commands, on one machine or on several sharing the bucket through
// GlusterFS, share one size-limited build cache whose every byte is checked.
//
// # Protocol
//
// The go command starts the program and talks JSON over its stdin and
// stdout. The program first announces the commands it knows (get, put,
// close); then each request, one JSON object a line, gets one response with
// the request's ID, in any order. A put whose BodySize is not zero is
// followed by a line holding the body as a base64 JSON string. Every answer
// to a get hit and to a put carries DiskPath: a local file holding exactly
// the output's bytes, which must exist until close. A command the program
// does not know gets a response with Err set.
//
// # Storage
//
// The bucket directory holds two kinds of entries, both with the Raw codec:
//
//   - "action-" and the ActionID in hex: a small JSON record of the OutputID
//     (hex), the output's size and the time of the put;
//   - "output-" and the OutputID in hex: the output's bytes.
//
// A put writes the output first and the action second, so an action never
// names an output that was never written (a size limit can still evict the
// output later: that is a miss). Both are plain bucket entries: writes are
// atomic, a crashed writer leaves nothing half-written, a damaged file is a
// miss, and Options.MaxBytes bounds the directory, evicting least recently
// used entries.
//
// # The local directory
//
// DiskPath files live in a local directory (Options.Local), one file per
// OutputID, named by its hex, in 256 subdirectories. A file gets there by a
// temporary file renamed into place, and only after its bytes were checked:
// a put's body against the OutputID the go command sent (SHA-256 and size),
// an output read from the bucket against the OutputID its action names. So
// whatever a bucket holds (a file damaged on disk, a foreign writer's
// garbage), the go command sees the bytes of the OutputID it was told or a
// miss, never a wrong object. A file already in the local directory with
// the right size is trusted, as the go command trusts its own GOCACHE:
// the local directory is private to its user and not shared between
// machines. Files are read-only; a file handed out has its modification
// time refreshed at most once an hour. Every Cache on a local directory
// holds a shared flock on it while open, and a Close that finds itself the
// last one (an exclusive flock, not waited for) removes the files not
// handed out for Options.LocalMaxAge, at most once an hour: so no file is
// removed while a go command may still use it.
//
// What is not checked: that an action's OutputID is the right one for its
// ActionID. Only rebuilding could tell. Whoever can write to the bucket
// directory can therefore make builds use outputs of its choosing, exactly as
// whoever can write to a GOCACHE directory can: share a bucket only with
// machines and people you trust to build your code.
package gocacheprog
