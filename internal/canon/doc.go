// Package canon turns Go values used as cache keys into canonical bytes, and
// back.
//
// bucketcache hashes these bytes to place an entry, stores them in the entry,
// compares them on read, shows them as file names and decodes them back into
// keys. The encoding therefore promises:
//
//   - Deterministic: equal keys give byte-for-byte equal output in every
//     process and every run. Map entries are sorted, struct fields come in
//     declaration order, and no pointer address or randomness is involved.
//   - Injective: distinct keys of a type never give the same bytes. No step
//     of the encoding is lossy; anything that cannot be encoded losslessly is
//     an error. Keys of different types can share bytes where the rules below
//     say so: int8(1) and int64(1), a []byte and a string, float32(0.1) and
//     float64(0.1), a struct and a map[string]V with the same entries.
//   - Readable: the output is compact JSON text (RFC 8259, no insignificant
//     whitespace) with one extension, \udcXX escapes for bytes that are not
//     valid UTF-8 (see Strings below).
//
// # Encoding rules
//
// Marshal applies the first rule that matches, after unwrapping interfaces:
//
//   - A nil interface or nil pointer is null. A non-nil pointer encodes its
//     pointee; an interface encodes its dynamic value.
//   - A type that implements encoding.TextMarshaler, with a value or a pointer
//     receiver (a value of the type is copied to call a pointer method), is
//     the JSON string of the text MarshalText returns, written by the string
//     rules below. time.Time and netip.Addr keys are thus RFC 3339 and address
//     strings. This rule comes before all the following ones, so it also
//     applies to structs with unexported fields. Beware that a struct that
//     embeds such a type, like struct{ time.Time; N int }, gets its
//     MarshalText method promoted and so encodes as that text alone (as in
//     encoding/json); give the field a name to encode the whole struct.
//   - bool is true or false.
//   - Integers of every int and uint kind are decimal with no leading zeros
//     and a leading - if negative. Numeric keys compare by value: int8(1),
//     int64(1) and uint(1) are all 1, the same key.
//   - float32 and float64 are written with strconv's shortest representation
//     that round-trips at the value's own bit size (so float32(0.1) is 0.1),
//     in one of two forms that both contain '.' or 'e', so that the float 1.0
//     and the integer 1 are different keys. If 1e-6 <= |x| < 1e21 the form is
//     fixed notation, with ".0" appended when there is no fractional part:
//     1.0, 1.5, 100.0, 0.000001. Otherwise it is d[.ddd]e±N with no leading
//     zeros in the exponent: 1e+21, 1.5e-7. Positive and negative zero are
//     equal under ==, so both are 0.0. NaN and infinities are errors (NaN is
//     not even equal to itself).
//   - string is a JSON string. '"' and '\' are written as \" and \\; the
//     control characters U+0008, U+0009, U+000A, U+000C, U+000D as \b, \t, \n,
//     \f, \r; the other characters below U+0020 and U+007F as \u00XX with
//     lowercase hex digits. All other valid UTF-8, including U+2028, U+2029,
//     '<', '>', '&', '/' and a literal U+FFFD, is written as itself; no other
//     escapes are used. Bytes that are not valid UTF-8 are written as \udcXX,
//     XX being the byte in lowercase hex (80 to ff): the "surrogateescape"
//     scheme of PEP 383. Precisely, the string is scanned from the start; where
//     the next bytes are the shortest UTF-8 encoding of a code point other
//     than a surrogate (U+D800 to U+DFFF), they are copied (or escaped as
//     above) and scanning continues after them; otherwise the next byte alone
//     is written as \udcXX and scanning continues after it. This is what
//     unicode/utf8.DecodeRuneInString decides, and Python's
//     bytes.decode("utf-8", "surrogateescape") gives the same code points. It
//     is unambiguous because valid UTF-8 never encodes a surrogate: the bytes
//     of an encoded surrogate such as "\xed\xa0\x80" are escaped one by one,
//     as \udced\udca0\udc80, and a decoder turns each \udcXX back into the
//     byte XX.
//   - A slice whose element kind is uint8, such as []byte, is the JSON string
//     of its bytes, exactly like a string: a []byte key and a string key with
//     the same bytes are the same key, and a nil slice is "". Byte arrays are
//     arrays.
//   - Other slices and arrays are [a,b,c]. A nil slice and an empty slice are
//     both [].
//   - A map is {"k":v,...}. Keys must be of a type that implements
//     encoding.TextMarshaler (the key is the JSON string of its text), or of a
//     string kind (the key is the string), or of an integer kind (the key is
//     the string of its decimal form, as in encoding/json: {"-1":...}).
//     Entries are sorted bytewise by their encoded keys, comparing the bytes
//     between the quotes (escapes included): "a" < "a " < "a!" < "b", and
//     "10" < "2". Two keys with the same text are an error. Other key types,
//     including interface, pointer, float, bool and struct types, are
//     errors. A nil map and an empty map are both {}.
//   - A struct is {"Name":v,...} with its exported fields in declaration
//     order. A field tagged `json:"name"` is named name; a field tagged
//     `json:"-"` is skipped; other tag options such as omitempty are ignored,
//     since omitting a field would be lossy. An embedded field is an ordinary
//     field named after its type; its fields are not promoted. Blank (_)
//     fields are skipped. A struct with any other unexported field (including
//     an embedded field of an unexported type, and one tagged `json:"-"`) is
//     an error, as is a struct with two fields of the same name.
//   - complex numbers, functions, channels, uintptr and unsafe.Pointer are
//     errors.
//
// Marshal also fails, rather than overflow the stack, on a cycle (a pointer,
// map or slice reached again inside itself) and on values nested more than
// 10000 levels deep, counting arrays, objects and pointers.
//
// # Decoding
//
// Unmarshal parses only canonical text: no whitespace, no trailing data, no
// escapes other than those above, numbers and strings only in the forms
// above. Into a Go type it accepts what Marshal would produce for that type:
//
//   - bool, strings and string kinds, []byte (from a string) and the integer
//     kinds (from an integer literal that fits; a float literal is an error).
//   - float32 and float64 from a float literal that is the canonical form of
//     a value of that size, or from an integer literal.
//   - Slices, and arrays of exactly their length. Decoded maps and slices are
//     new; nothing is merged into existing ones.
//   - Maps from objects whose keys are sorted as Marshal sorts them.
//   - Structs from objects with exactly the encoded fields, in declaration
//     order.
//   - Pointers: null is nil, anything else is decoded into a new pointee.
//   - Types that implement encoding.TextMarshaler decode from a string with
//     their encoding.TextUnmarshaler, which they must implement. Types that
//     implement only encoding.TextUnmarshaler encode, and so decode, by the
//     other rules.
//   - An empty interface gets nil, bool, int64 (an integer literal that fits,
//     else uint64 if it fits there, else an error), float64, string, []any or
//     map[string]any. As for maps, object keys must be sorted: the text of a
//     struct whose field names are not in sorted order must be decoded into
//     that struct type, not into an interface. A non-empty interface only
//     decodes null.
//
// Unmarshal also rejects input nested more than 10000 levels deep, counting
// arrays, objects and the pointers of the target type. Its errors start with
// "canon: " and give the offset in the input where decoding failed.
//
// For every value v that Marshal accepts, decoding Marshal(v) into a new
// value of v's type and encoding that gives Marshal(v) again, unless v holds
// a value in an interface that cannot take it back: a non-nil value in a
// non-empty interface, or a struct with unsorted field names in an empty one.
//
// Decoding canonical text into an empty interface and encoding the result
// gives the same text again.
package canon
