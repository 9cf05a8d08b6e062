package shard

import "errors"

// Reason names one way an entry file can be damaged.
type Reason string

// The reasons a file is not a valid entry.
const (
	ReasonShort       Reason = "truncated"
	ReasonLong        Reason = "trailing bytes"
	ReasonMagic       Reason = "bad magic"
	ReasonVersion     Reason = "unknown format version"
	ReasonHeaderSum   Reason = "header checksum mismatch"
	ReasonHeaderField Reason = "invalid header field"
	ReasonBodySum     Reason = "body checksum mismatch"
	ReasonKey         Reason = "holds a different key"
	ReasonNotRegular  Reason = "not a regular file"
)

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
