package view

import "time"

// XattrPrefix starts the name of every extended attribute the view gives an
// entry.
const XattrPrefix = "user.bucketcache."

// The extended attributes of every entry, without XattrPrefix.
const (
	XattrKey       = "key"        // the canonical key bytes, exactly as stored
	XattrCodec     = "codec"      // the codec's name
	XattrWrittenAt = "written-at" // RFC 3339 UTC time, nanoseconds
	XattrExpiresAt = "expires-at" // RFC 3339 UTC time, or "never"
	XattrFile      = "file"       // the entry file's path in the bucket directory
)

// Xattr is one extended attribute.
type Xattr struct {
	Name  string // with XattrPrefix
	Value []byte
}

// Xattrs returns the entry's metadata as extended attributes, in a fixed
// order.
func (e *Entry) Xattrs() []Xattr {
	expires := "never"
	if e.Header.ExpiresAt != 0 {
		expires = FormatTime(e.ExpiresAt())
	}
	return []Xattr{
		{XattrPrefix + XattrKey, e.Key},
		{XattrPrefix + XattrCodec, []byte(e.Header.Codec)},
		{XattrPrefix + XattrWrittenAt, []byte(FormatTime(e.WrittenAt()))},
		{XattrPrefix + XattrExpiresAt, []byte(expires)},
		{XattrPrefix + XattrFile, []byte(e.Path)},
	}
}

// Xattr returns the value of the extended attribute name, and whether the
// entry has it.
func (e *Entry) Xattr(name string) ([]byte, bool) {
	for _, x := range e.Xattrs() {
		if x.Name == name {
			return x.Value, true
		}
	}
	return nil, false
}

// FormatTime writes t as the view shows times: RFC 3339 in UTC, with
// nanoseconds when there are any.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
