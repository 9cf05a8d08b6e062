package fsx

import "testing"

func TestFileIDSame(t *testing.T) {
	full := FileID{Ino: 7, Size: 100, Mtime: 123456789}
	written := FileID{Size: 100, Mtime: 123456789} // recorded by a writer, no inode
	for _, c := range []struct {
		id, now FileID
		want    bool
	}{
		{full, full, true},
		{full, FileID{Ino: 8, Size: 100, Mtime: 123456789}, false},
		{full, FileID{Ino: 7, Size: 101, Mtime: 123456789}, false},
		{written, full, true},
		{written, FileID{Ino: 9, Size: 100, Mtime: 123456789}, true},
		{written, FileID{Ino: 7, Size: 100, Mtime: 123000000}, false}, // times kept coarser
		{written, FileID{Ino: 7, Size: 99, Mtime: 123456789}, false},
		{FileID{}, FileID{}, false},
	} {
		if got := c.id.Same(c.now); got != c.want {
			t.Errorf("%+v.Same(%+v) = %v, want %v", c.id, c.now, got, c.want)
		}
	}
}
