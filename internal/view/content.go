package view

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/bucketcache/bucketcache/internal/fsx"
	"github.com/bucketcache/bucketcache/internal/posix"
	"github.com/bucketcache/bucketcache/shard"
)

// The codec names the view knows how to show.
const (
	CodecJSON    = "json"
	CodecMsgpack = "msgpack"
	CodecRaw     = "raw"
	CodecGob     = "gob"
)

// smallFile is the largest entry file OpenContent reads whole; a larger one
// is verified by streaming through it, and a Raw or opaque value in it is
// then served from the file by offset.
const smallFile = 1 << 20

// Content is the decoded value of one entry, as a file of the view shows
// it: a snapshot of the version that was current when it was opened, which
// later writes to the bucket do not change. Its methods are safe for
// concurrent use.
type Content struct {
	Entry // the version shown
	size  int64
	data  []byte // the whole content, when it is in memory
	fd    int    // the entry file, when the content is read from it; else -1
	dump  *dump  // an opaque value's hex dump, when that is the content
}

// OpenContent opens the content of the entry file for hash h, verifying the
// whole file (header, body checksum, key). want, when not nil, is the key the
// caller expects there. It returns ErrNotFound when the file is missing,
// holds another key or has expired; damage is an error for which
// shard.IsDamage is true; anything else is an I/O error naming the path.
// Close the Content when done.
func (d *Dir) OpenContent(h uint64, want []byte) (*Content, error) {
	rel := d.layout.EntryPath(h)
	path := filepath.Join(d.path, rel)
	fd, err := fsx.OpenBeneath(d.root, rel, posix.O_RDONLY|posix.O_NONBLOCK|posix.O_NOFOLLOW, 0)
	switch {
	case err == nil:
	case fsx.IsMissing(err):
		return nil, ErrNotFound
	case fsx.IsLink(err):
		return nil, shard.Damage(shard.ReasonSymlink)
	default:
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	c, err := d.load(fd, h)
	if err != nil {
		posix.Close(fd)
		if !shard.IsDamage(err) && err != ErrNotFound {
			err = &fs.PathError{Op: "read", Path: path, Err: err}
		}
		return nil, err
	}
	c.Path = rel
	if c.fd != fd {
		posix.Close(fd)
	}
	if want != nil && !bytes.Equal(c.Key, want) || c.Header.Expired(d.now()) {
		c.Close()
		return nil, ErrNotFound
	}
	return c, nil
}

// load reads and verifies the entry file open as fd, with shard.ReadEntry:
// whole, when it is small or its value must be decoded to be shown (JSON,
// MessagePack); otherwise checked by streaming through it, and then served
// from the file by offset. The returned Content keeps fd when it reads from
// it.
func (d *Dir) load(fd int, h uint64) (*Content, error) {
	var st posix.Stat_t
	if err := posix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	if st.Mode&posix.S_IFMT != posix.S_IFREG {
		return nil, shard.Damage(shard.ReasonNotRegular)
	}
	i := d.layout.Index(h)
	e, err := shard.ReadEntry(fsx.File(fd), st.Size, shard.Head, nil)
	if err != nil {
		return nil, err
	}
	if st.Size <= smallFile || e.Codec == CodecJSON || e.Codec == CodecMsgpack {
		if e, err = shard.ReadEntry(fsx.File(fd), st.Size, shard.Whole, nil); err == nil {
			err = d.layout.CheckPlace(i, h, e.Key)
		}
		if err != nil {
			return nil, err
		}
		d.sound.add(fsx.IDOf(&st))
		c := &Content{Entry: entryOf(e, h, &st), fd: -1}
		c.render(e.Value, nil)
		return c, nil
	}
	v, _, err := d.inspect(fd, h, i, true, true)
	if err != nil {
		return nil, err
	}
	c := &Content{Entry: v, fd: fd}
	c.render(nil, &fileSource{fd: fd, base: v.Header.ValueOffset(), n: int64(v.Header.ValueLen)})
	return c, nil
}

// render sets the content from the value, given either whole in memory
// (value) or as a source to read from (src).
func (c *Content) render(value []byte, src source) {
	codec := c.Header.Codec
	if src == nil {
		src = bytes.NewReader(value)
	}
	n := int64(c.Header.ValueLen)
	switch codec {
	case CodecJSON:
		if out, err := indentJSON(value, jsonDepth(value)); err == nil {
			c.data = unescapeHTML(out)
		} else {
			c.data = value // not JSON after all: shown as stored
		}
	case CodecMsgpack:
		out, err := msgpackJSON(value)
		if err == nil {
			c.data = out
		} else {
			c.dump = newDump(fmt.Sprintf("# msgpack value, %d bytes, not shown as JSON: %v\n# hex dump:\n", n, err), src, n)
		}
	case CodecGob:
		c.dump = newDump(fmt.Sprintf("# gob value, %d bytes: encoding/gob needs the Go type to decode it\n# hex dump:\n", n), src, n)
	default: // raw, and codecs the view does not know: the bytes themselves
		if value != nil {
			c.data = value
		} else {
			c.dump = &dump{src: src, n: n, raw: true}
		}
	}
	switch {
	case c.data != nil:
		c.size = int64(len(c.data))
	case c.dump != nil:
		c.size = c.dump.size()
	}
}

// Size is the content's exact size in bytes.
func (c *Content) Size() int64 { return c.size }

// ReadAt reads the content at off, as io.ReaderAt does.
func (c *Content) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("view: negative offset")
	}
	if off >= c.size {
		return 0, io.EOF
	}
	var n int
	var err error
	if c.data != nil {
		n = copy(p, c.data[off:])
	} else {
		n, err = c.dump.readAt(p[:min(int64(len(p)), c.size-off)], off)
	}
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}

// WriteTo writes the whole content to w.
func (c *Content) WriteTo(w io.Writer) (int64, error) {
	if c.data != nil {
		n, err := w.Write(c.data)
		return int64(n), err
	}
	return io.Copy(w, io.NewSectionReader(c, 0, c.size))
}

// Close releases the entry file, if the content reads from it.
func (c *Content) Close() error {
	if c.fd >= 0 {
		fd := c.fd
		c.fd = -1
		return posix.Close(fd)
	}
	return nil
}

// ContentSize returns the size of e's content. It reads the value only when
// the size depends on decoding it (JSON and MessagePack).
func (d *Dir) ContentSize(e *Entry) (int64, error) {
	switch e.Header.Codec {
	case CodecJSON, CodecMsgpack:
		c, err := d.OpenContent(e.Hash, e.Key)
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.Size(), nil
	case CodecGob:
		c := Content{Entry: *e, fd: -1}
		c.render(nil, &fileSource{fd: -1, n: int64(e.Header.ValueLen)})
		return c.size, nil
	default:
		return int64(e.Header.ValueLen), nil
	}
}

// source is where a value streamed from is read.
type source interface {
	ReadAt(p []byte, off int64) (int, error)
}

// fileSource reads a value of n bytes at base in the file open as fd.
type fileSource struct {
	fd   int
	base int64
	n    int64
}

func (s *fileSource) ReadAt(p []byte, off int64) (int, error) {
	if off >= s.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), s.n-off)]
	return fsx.File(s.fd).ReadAt(p, s.base+off)
}

// unescapeHTML rewrites the escapes \u003c, \u003e and \u0026 that
// encoding/json writes for '<', '>' and '&' inside strings as the characters
// themselves, in place. The JSON means the same, and reads as it was meant.
func unescapeHTML(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u00`)) {
		return b
	}
	out := b[:0]
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case !inString:
			inString = c == '"'
		case c == '"':
			inString = false
		case c == '\\' && i+1 < len(b):
			if b[i+1] == 'u' && i+5 < len(b) && string(b[i+2:i+4]) == "00" {
				switch string(b[i+4 : i+6]) {
				case "3c":
					out = append(out, '<')
					i += 5
					continue
				case "3e":
					out = append(out, '>')
					i += 5
					continue
				case "26":
					out = append(out, '&')
					i += 5
					continue
				}
			}
			out = append(out, c, b[i+1])
			i++
			continue
		}
		out = append(out, c)
	}
	return out
}

// maxIndent is the deepest nesting that content shows indented. Indenting
// costs two bytes per level on every line, so a deeper value is shown
// compact, on one line, lest a small value become a huge file.
const maxIndent = 64

// indentJSON returns valid JSON text indented by two spaces (compact when it
// nests deeper than maxIndent), and a newline.
func indentJSON(text []byte, depth int) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(text) + len(text)/4 + 1)
	var err error
	if depth > maxIndent {
		err = json.Compact(&buf, text)
	} else {
		err = json.Indent(&buf, text, "", "  ")
	}
	if err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// jsonDepth returns how deep arrays and objects nest in JSON text.
func jsonDepth(b []byte) int {
	depth, deepest := 0, 0
	inString := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// Describe returns the live entry in the file for hash h together with the
// size of its content, both of the same version of the file. want, when not
// nil, is the key the caller expects there. Absence, another key and expiry
// are ErrNotFound; damage is an error for which shard.IsDamage is true (for
// JSON and MessagePack, whose size needs the value decoded, this includes
// damage to the value).
func (d *Dir) Describe(h uint64, want []byte) (Entry, int64, error) {
	e, err := d.Stat(h)
	if err != nil {
		return Entry{}, 0, err
	}
	if want != nil && !bytes.Equal(e.Key, want) || e.Header.Expired(d.now()) {
		return Entry{}, 0, ErrNotFound
	}
	switch e.Header.Codec {
	case CodecJSON, CodecMsgpack:
		c, err := d.OpenContent(h, e.Key)
		if err != nil {
			return Entry{}, 0, err
		}
		defer c.Close()
		return c.Entry, c.Size(), nil
	}
	size, err := d.ContentSize(&e)
	return e, size, err
}
