// Package view shows a bucket directory as a flat set of named files, one
// per live entry, whose content is the entry's decoded value. The FUSE
// filesystem (package fusefs) and the bucketfs command (ls, get) both use
// it, so the names and the content they show are always the same.
//
// A Dir only reads: it never creates, changes or removes a file, and takes
// no lock. It opens every path beneath the bucket directory without
// following symbolic links (openat2 with RESOLVE_BENEATH and
// RESOLVE_NO_SYMLINKS), so a shard directory or entry file replaced by a
// symlink is never followed. Expiry is judged by the Dir's clock against the
// expiry stored in each entry; the view has no lifetime of its own.
// Damaged entries (bad header, wrong size, a key that does not hash to the
// file's name, a non-file in an entry's place) are hidden; the body checksum
// is checked when content is opened.
//
// # Names
//
// An entry's name is derived from its canonical key bytes alone, by Name,
// and ParseName reverses it, so a name leads straight to the one file that
// can hold it, without a search. The rule:
//
//  1. If the key bytes are the canonical JSON of a string (package canon;
//     string, []byte and TextMarshaler keys), the name is that string,
//     escaped as in step 3, with a leading '=' written %3D. The empty
//     string, "." and ".." are the exception: they take the form of step 2.
//  2. Otherwise (numbers, booleans, null, arrays, objects, structs, and keys
//     made by a KeyMaker that does not write canonical JSON) the name is '='
//     followed by the key bytes, that is the key's compact JSON text,
//     escaped as in step 3. So the string "7" is named 7 and the integer 7
//     is named =7; the string "=7" is named %3D7.
//  3. Escaping: every byte of '%', '/', a control character (U+0000 to
//     U+001F, U+007F, U+0080 to U+009F) or a byte that is not part of valid
//     UTF-8 is written %XX, XX its value in uppercase hex. Names are
//     therefore valid UTF-8 with no '/', NUL or line breaks.
//  4. A name that would end in '~' and 16 lowercase hex digits has that '~'
//     written %7E, so that only shortened names (step 5) end that way.
//  5. A name longer than 255 bytes is shortened to its first 238 bytes or
//     fewer (never splitting a character or an escape), then '~', then the
//     16 lowercase hex digits of the key's hash, which names the entry's
//     file and is unique among the bucket's entries.
//
// Distinct keys thus always have distinct names, and a name is never ".",
// "..", empty, or longer than 255 bytes. Every name but a shortened one
// decodes back to its key's bytes; a shortened name decodes to its hash.
//
// # Content
//
// A file's content is the entry's decoded value:
//
//   - json: the stored JSON indented by two spaces, then a newline, with
//     the escapes \u003c, \u003e and \u0026 that encoding/json writes for
//     '<', '>' and '&' shown as those characters. Object members keep their
//     stored order and numbers their stored digits. A value nested more
//     than 64 levels deep is shown compact, on one line (indenting it would
//     cost two bytes per level on every line). Stored bytes that are not
//     JSON (a custom codec that took the name) are shown as they are.
//   - msgpack: the value as indented JSON and a newline (compact past 64
//     levels, as for json; more than 10000 levels is refused, as
//     encoding/json refuses it, and shown like gob); map entries in
//     stored order, non-string map keys as their JSON text, binary data as
//     base64 (as encoding/json shows []byte), timestamps as RFC 3339 strings,
//     NaN and infinities as the strings "NaN", "+Inf", "-Inf". A value that
//     cannot be shown so (an unregistered extension type) is shown like gob.
//   - raw: the bytes themselves, read from the entry file by offset when
//     large, never loaded whole.
//   - gob: encoding/gob cannot decode without the Go type, so the content is
//     two lines starting with '#' that say so, then a hex dump of the value
//     in the format of encoding/hex.Dump (hexdump -C), produced on demand.
//   - any other codec: the value's bytes as stored.
//
// A Content is a snapshot: once opened it keeps showing the version it
// opened, whatever is written to the bucket afterwards.
package view
