package bucket

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/bucketcache/bucketcache/internal/store"
)

// Codec encodes values into entry files and decodes them back. Its name is
// recorded in every entry it writes, so a Bucket can read entries written by
// any built-in codec, and tools can decode values without Go types.
type Codec interface {
	Name() string // 1 to 255 bytes, recorded in every entry file
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// The built-in codecs.
var (
	// JSON is encoding/json: self-describing, so the FUSE view shows it as
	// text. The default. Like encoding/json it writes invalid UTF-8 in
	// strings as U+FFFD: store arbitrary bytes with Raw, Gob or MessagePack.
	JSON Codec = jsonCodec{}
	// Gob is encoding/gob: any Go value gob handles, but opaque to tools.
	Gob Codec = gobCodec{}
	// MessagePack is github.com/vmihailenco/msgpack/v5: compact and
	// self-describing.
	MessagePack Codec = msgpackCodec{}
	// Raw stores a V of kind []byte or string byte for byte. Open fails for
	// any other V.
	Raw Codec = rawCodec{}
)

var builtinCodecs = map[string]Codec{
	JSON.Name(): JSON, Gob.Name(): Gob, MessagePack.Name(): MessagePack, Raw.Name(): Raw,
}

type jsonCodec struct{}

func (jsonCodec) Name() string                       { return "json" }
func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

type gobCodec struct{}

func (gobCodec) Name() string { return "gob" }
func (gobCodec) Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	err := gob.NewEncoder(&buf).Encode(v)
	return buf.Bytes(), err
}
func (gobCodec) Unmarshal(data []byte, v any) error {
	return gob.NewDecoder(bytes.NewReader(data)).Decode(v)
}

type msgpackCodec struct{}

func (msgpackCodec) Name() string                       { return "msgpack" }
func (msgpackCodec) Marshal(v any) ([]byte, error)      { return msgpack.Marshal(v) }
func (msgpackCodec) Unmarshal(data []byte, v any) error { return msgpack.Unmarshal(data, v) }

type rawCodec struct{}

func (rawCodec) Name() string { return store.RawCodec }

func (rawCodec) Marshal(v any) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return bytes.Clone(x), nil
	case string:
		return []byte(x), nil
	}
	rv := reflect.ValueOf(v)
	if rv.IsValid() && rawKind(rv.Type()) {
		if rv.Kind() == reflect.String {
			return []byte(rv.String()), nil
		}
		return bytes.Clone(rv.Bytes()), nil
	}
	return nil, fmt.Errorf("raw codec: cannot store %T (needs []byte or string)", v)
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	if decodeRaw(data, false, v) {
		return nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() && rawKind(rv.Elem().Type()) {
		if rv.Elem().Kind() == reflect.String {
			rv.Elem().SetString(string(data))
		} else {
			rv.Elem().SetBytes(append([]byte{}, data...))
		}
		return nil
	}
	return fmt.Errorf("raw codec: cannot decode into %T (needs *[]byte or *string)", v)
}

// decodeRaw decodes data into v as Raw does when v is a *[]byte or a
// *string, and reports whether it was: a []byte gets a copy (empty, not nil,
// for no bytes), or data itself when own says nothing else holds it.
func decodeRaw(data []byte, own bool, v any) bool {
	switch x := v.(type) {
	case *[]byte:
		switch {
		case own && data != nil:
			*x = data
		case len(data) == 0:
			*x = []byte{}
		default:
			*x = bytes.Clone(data)
		}
		return true
	case *string:
		*x = string(data)
		return true
	}
	return false
}

// checkType rejects, at Open, a V that Raw cannot hold.
func (rawCodec) checkType(t reflect.Type) error {
	if !rawKind(t) {
		return fmt.Errorf("raw codec: value type %v is neither []byte nor string", t)
	}
	return nil
}

func rawKind(t reflect.Type) bool {
	return t.Kind() == reflect.String || (t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8)
}

// typeChecker is implemented by codecs that can refuse a value type at Open.
type typeChecker interface {
	checkType(reflect.Type) error
}
