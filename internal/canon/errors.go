package canon

import (
	"reflect"
	"strings"
)

// UnsupportedError is the error Marshal and AppendMarshal return when a key,
// or a value inside it, has no canonical form.
type UnsupportedError struct {
	// Type is the type of the value that cannot be encoded.
	Type reflect.Type
	// Path locates that value inside the key, like ".Field[2]" or
	// `["name"].Next`; it is empty for the key itself.
	Path string
	// Reason says why the value cannot be encoded.
	Reason string
}

// Error returns a message like
// "canon: cannot encode key of type func() at .Field[2]: functions have no canonical form".
func (e *UnsupportedError) Error() string {
	var b strings.Builder
	b.WriteString("canon: cannot encode key of type ")
	if e.Type == nil {
		b.WriteString("<nil>")
	} else {
		b.WriteString(e.Type.String())
	}
	if e.Path != "" {
		b.WriteString(" at ")
		b.WriteString(e.Path)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// encodeError is an UnsupportedError under construction: while it travels
// up from the failing value, each enclosing value adds its path segment.
type encodeError struct {
	typ    reflect.Type
	reason string
	rev    []string // path segments, innermost first
}

// at records that the failing value sits at segment seg of its parent.
func (e *encodeError) at(seg string) *encodeError {
	e.rev = append(e.rev, seg)
	return e
}

// export turns e into the UnsupportedError returned to callers.
func (e *encodeError) export() *UnsupportedError {
	var b strings.Builder
	for i := len(e.rev) - 1; i >= 0; i-- {
		b.WriteString(e.rev[i])
	}
	return &UnsupportedError{Type: e.typ, Path: b.String(), Reason: e.reason}
}
