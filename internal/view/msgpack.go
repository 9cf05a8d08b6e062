package view

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// maxDepth bounds the nesting of arrays and maps in a MessagePack value the
// view decodes, as encoding/json bounds it for JSON.
const maxDepth = 10000

// msgpackJSON renders one MessagePack value as indented JSON and a newline.
// Map entries keep their stored order; keys that are not strings are shown
// as their JSON text; NaN and infinities, which JSON cannot hold, are the
// strings "NaN", "+Inf" and "-Inf"; binary data is base64, as encoding/json
// shows []byte.
func msgpackJSON(value []byte) ([]byte, error) {
	depth, err := checkDepth(value)
	if err != nil {
		return nil, err
	}
	r := bytes.NewReader(value)
	dec := msgpack.NewDecoder(r)
	dec.SetMapDecoder(decodeOrderedMap)
	v, err := dec.DecodeInterface()
	if err != nil {
		return nil, err
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("%d bytes after the value", r.Len())
	}
	compact, err := appendJSON(nil, v)
	if err != nil {
		return nil, err
	}
	return indentJSON(compact, depth)
}

// orderedMap is a decoded MessagePack map, in stored order.
type orderedMap []mapEntry

type mapEntry struct{ k, v any }

func decodeOrderedMap(d *msgpack.Decoder) (any, error) {
	n, err := d.DecodeMapLen()
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, nil // nil map
	}
	m := make(orderedMap, 0, min(n, 1024))
	for range n {
		k, err := d.DecodeInterface()
		if err != nil {
			return nil, err
		}
		v, err := d.DecodeInterface()
		if err != nil {
			return nil, err
		}
		m = append(m, mapEntry{k, v})
	}
	return m, nil
}

// maxKeyNesting bounds how deep map keys that are not strings (each shown as
// its JSON text, escaped into a JSON string) may hold other such keys. Each
// level escapes the quotes and backslashes of the one inside it, so the text
// can double with every level: without a bound, a value of a kilobyte could
// ask for more text than there is memory.
const maxKeyNesting = 8

// appendJSON appends the compact JSON text of a decoded value.
func appendJSON(dst []byte, v any) ([]byte, error) { return appendJSONKeyed(dst, v, 0) }

// appendJSONKeyed is appendJSON for a value inside keys levels of map keys
// that are not strings.
func appendJSONKeyed(dst []byte, v any, keys int) ([]byte, error) {
	switch x := v.(type) {
	case orderedMap:
		dst = append(dst, '{')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			k, ok := e.k.(string)
			if !ok {
				if keys == maxKeyNesting {
					return nil, fmt.Errorf("map keys that are maps or arrays nest more than %d deep", maxKeyNesting)
				}
				text, err := appendJSONKeyed(nil, e.k, keys+1)
				if err != nil {
					return nil, err
				}
				k = string(text)
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, err = appendJSONKeyed(dst, e.v, keys); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendJSONKeyed(dst, e, keys); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case string:
		return appendString(dst, x), nil
	case float32:
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return appendString(dst, nonFinite(f)), nil
		}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return appendString(dst, nonFinite(x)), nil
		}
	case time.Time:
		return appendString(dst, x.UTC().Format(time.RFC3339Nano)), nil
	case nil, bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, []byte:
	default:
		return nil, fmt.Errorf("cannot show %T as JSON", v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

func nonFinite(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case f > 0:
		return "+Inf"
	}
	return "-Inf"
}

// appendString appends s as a JSON string, without escaping <, > and &, and
// with invalid UTF-8 replaced by U+FFFD as encoding/json does.
func appendString(dst []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return append(dst, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

var errTooDeep = errors.New("nested more than " + strconv.Itoa(maxDepth) + " levels deep")

// checkDepth walks a MessagePack value without decoding it and returns how
// deep its arrays and maps nest. It fails if they nest deeper than maxDepth,
// or if the value is truncated, so that decoding it cannot exhaust the stack.
func checkDepth(b []byte) (int, error) {
	deepest := 0
	// pending[i] is how many more values the i-th open container holds.
	var pending []uint64
	need := func(n int) bool { return len(b) >= n }
	be := func(n int) uint64 {
		var v uint64
		for _, c := range b[:n] {
			v = v<<8 | uint64(c)
		}
		return v
	}
	values := uint64(1)
	for values > 0 || len(pending) > 0 {
		if values == 0 {
			values = pending[len(pending)-1]
			pending = pending[:len(pending)-1]
			continue
		}
		values--
		if !need(1) {
			return 0, errors.New("truncated")
		}
		c := b[0]
		b = b[1:]
		var skip, lenBytes int
		var open uint64
		isContainer := false
		switch {
		case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		case c >= 0x80 && c <= 0x8f:
			open, isContainer = 2*uint64(c&0x0f), true
		case c >= 0x90 && c <= 0x9f:
			open, isContainer = uint64(c&0x0f), true
		case c >= 0xa0 && c <= 0xbf:
			skip = int(c & 0x1f)
		case c == 0xc4 || c == 0xd9:
			lenBytes = 1
		case c == 0xc5 || c == 0xda:
			lenBytes = 2
		case c == 0xc6 || c == 0xdb:
			lenBytes = 4
		case c == 0xc7:
			lenBytes, skip = 1, 1
		case c == 0xc8:
			lenBytes, skip = 2, 1
		case c == 0xc9:
			lenBytes, skip = 4, 1
		case c == 0xca:
			skip = 4
		case c == 0xcb:
			skip = 8
		case c == 0xcc || c == 0xd0:
			skip = 1
		case c == 0xcd || c == 0xd1:
			skip = 2
		case c == 0xce || c == 0xd2:
			skip = 4
		case c == 0xcf || c == 0xd3:
			skip = 8
		case c == 0xd4:
			skip = 2
		case c == 0xd5:
			skip = 3
		case c == 0xd6:
			skip = 5
		case c == 0xd7:
			skip = 9
		case c == 0xd8:
			skip = 17
		case c == 0xdc:
			if !need(2) {
				return 0, errors.New("truncated")
			}
			open, isContainer = be(2), true
			b = b[2:]
		case c == 0xdd:
			if !need(4) {
				return 0, errors.New("truncated")
			}
			open, isContainer = be(4), true
			b = b[4:]
		case c == 0xde:
			if !need(2) {
				return 0, errors.New("truncated")
			}
			open, isContainer = 2*be(2), true
			b = b[2:]
		case c == 0xdf:
			if !need(4) {
				return 0, errors.New("truncated")
			}
			open, isContainer = 2*be(4), true
			b = b[4:]
		default:
			return 0, fmt.Errorf("invalid code %#x", c)
		}
		if lenBytes > 0 {
			if !need(lenBytes) {
				return 0, errors.New("truncated")
			}
			n := be(lenBytes)
			b = b[lenBytes:]
			if n > uint64(len(b)) {
				return 0, errors.New("truncated")
			}
			b = b[n:]
		}
		if skip > 0 {
			if !need(skip) {
				return 0, errors.New("truncated")
			}
			b = b[skip:]
		}
		if isContainer {
			if open > uint64(len(b)) {
				return 0, errors.New("truncated") // every value takes at least a byte
			}
			if open > 0 {
				if len(pending) >= maxDepth {
					return 0, errTooDeep
				}
				pending = append(pending, values)
				values = open
				deepest = max(deepest, len(pending))
			}
		}
	}
	return deepest, nil
}
