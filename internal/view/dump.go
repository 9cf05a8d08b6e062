package view

import (
	"encoding/hex"
	"io"
)

// dump is content made from a value read from a source: the value's bytes
// themselves (raw), or a header line and a hex dump of the bytes in the
// format of encoding/hex.Dump (the format of hexdump -C), produced line by
// line on demand so that no large value is ever held in memory.
type dump struct {
	head string
	src  source
	n    int64 // value length
	raw  bool
}

// fullLine is the length of a dump line of 16 bytes.
var fullLine = int64(lineLen(16))

// lineLen is the length of the dump line of r bytes (1..16).
func lineLen(r int) int { return len(hex.Dump(make([]byte, r))) }

func newDump(head string, src source, n int64) *dump { return &dump{head: head, src: src, n: n} }

func (d *dump) size() int64 {
	if d.raw {
		return d.n
	}
	s := int64(len(d.head)) + d.n/16*fullLine
	if r := d.n % 16; r > 0 {
		s += int64(lineLen(int(r)))
	}
	return s
}

// readAt fills p, which the caller has clipped to the content's end, from
// offset off.
func (d *dump) readAt(p []byte, off int64) (int, error) {
	if d.raw {
		return d.src.ReadAt(p, off)
	}
	done := 0
	if off < int64(len(d.head)) {
		done = copy(p, d.head[off:])
		off += int64(done)
	}
	pos := off - int64(len(d.head))
	line := pos / fullLine
	skip := int(pos % fullLine)
	var chunk, text []byte
	for done < len(p) && line*16 < d.n {
		// Format enough lines to fill the rest of p, at most 4096 at a time.
		lines := min((int64(len(p)-done)+int64(skip))/fullLine+1, 4096)
		want := min(lines*16, d.n-line*16)
		chunk = append(chunk[:0], make([]byte, want)...)
		if _, err := d.src.ReadAt(chunk, line*16); err != nil && err != io.EOF {
			return done, err
		}
		text = text[:0]
		for i := int64(0); i < want; i += 16 {
			text = appendLine(text, line*16+i, chunk[i:min(i+16, want)])
		}
		n := copy(p[done:], text[skip:])
		done += n
		skip = 0
		line += (want + 15) / 16
	}
	return done, nil
}

// appendLine appends the dump line for b (1 to 16 bytes) at offset off.
func appendLine(dst []byte, off int64, b []byte) []byte {
	l := hex.Dump(b)
	var o [4]byte
	u := uint32(off) // encoding/hex writes 8 hex digits of the offset
	o[0], o[1], o[2], o[3] = byte(u>>24), byte(u>>16), byte(u>>8), byte(u)
	dst = hex.AppendEncode(dst, o[:])
	return append(dst, l[8:]...)
}
