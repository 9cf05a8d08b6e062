package shard

import "errors"

// Reason names one way an entry file can be damaged.
type Reason string

// The reasons a file is not a valid entry.
const (
	ReasonShort       Reason = "truncated"
	ReasonLong        Reason = "trailing bytes"
	ReasonMagic       Reason = "not an entry file (no magic number)"
	ReasonVersion     Reason = "unknown format version"
	ReasonHeaderSum   Reason = "header checksum mismatch"
	ReasonHeaderField Reason = "invalid header field"
	ReasonBodySum     Reason = "body checksum mismatch"
	ReasonKey         Reason = "holds a different key"
	ReasonSymlink     Reason = "a symbolic link"
	ReasonNotRegular  Reason = "not a regular file"
)

// Foreign reports whether r describes something in an entry's place that the
// format does not own: a file that does not start with the magic number (of
// any length, empty included), or a directory, FIFO, socket or device. Like
// all damage it is a miss to every reader, but nothing removes it: it may be
// another program's data. Every other reason is the format's own damage
// (a truncated or corrupted entry, a misplaced one, a symbolic link), which
// Prune and verification remove.
func (r Reason) Foreign() bool { return r == ReasonMagic || r == ReasonNotRegular }

// ReasonOf returns the reason of the *DamageError in err's chain, or "" when
// err is not damage.
func ReasonOf(err error) Reason {
	var d *DamageError
	if errors.As(err, &d) {
		return d.Reason
	}
	return ""
}

// DamageError reports why bytes are not a valid entry.
type DamageError struct {
	Reason Reason
}

func (e *DamageError) Error() string { return "entry damaged: " + string(e.Reason) }

// damage returns a *DamageError for r. The values are shared: callers compare
// Reason, never pointers.
func damage(r Reason) error { return &DamageError{Reason: r} }

// Damage returns a *DamageError for r, for callers that find damage the
// format cannot see by itself (a foreign key, a directory in an entry's place).
func Damage(r Reason) error { return damage(r) }

// IsDamage reports whether err is, or wraps, a *DamageError.
func IsDamage(err error) bool {
	var d *DamageError
	return errors.As(err, &d)
}

var (
	errCodecName  = errors.New("entry: codec name must be 1 to 255 bytes")
	errKeyTooLong = errors.New("entry: key longer than 4 GiB")
)
