package shard

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/bucketcache/bucketcache/internal/posix"
)

// openNoFollow opens path never through a symbolic link or junction
// (ELOOP). Windows has no O_NOFOLLOW: the name is looked at first.
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&(fs.ModeSymlink|fs.ModeIrregular) != 0 {
		return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.ELOOP}
	}
	return os.OpenFile(path, flag, perm)
}

// mapShared maps size bytes of f shared with every process, and returns a
// descriptor of f of its own, kept to check cheaply that a name still
// holds the file.
func mapShared(f *os.File, size int, writable bool) ([]byte, int, error) {
	prot, access := uint32(windows.PAGE_READONLY), uint32(windows.FILE_MAP_READ)
	if writable {
		prot, access = windows.PAGE_READWRITE, windows.FILE_MAP_WRITE
	}
	h, err := windows.CreateFileMapping(windows.Handle(f.Fd()), nil, prot, 0, uint32(size), nil)
	if err != nil {
		return nil, -1, fmt.Errorf("CreateFileMapping: %w", err)
	}
	addr, err := windows.MapViewOfFile(h, access, 0, 0, uintptr(size))
	windows.CloseHandle(h) // the view keeps the mapping
	if err != nil {
		return nil, -1, fmt.Errorf("MapViewOfFile: %w", err)
	}
	mem := unsafe.Slice((*byte)(*(*unsafe.Pointer)(unsafe.Pointer(&addr))), size)
	fd, err := posix.Open(f.Name(), posix.O_RDONLY|posix.O_NOFOLLOW, 0)
	if err != nil {
		windows.UnmapViewOfFile(addr)
		return nil, -1, err
	}
	return mem, fd, nil
}

func unmap(mem []byte) error {
	if len(mem) == 0 {
		return errors.New("counters: nothing mapped")
	}
	return windows.UnmapViewOfFile(uintptr(unsafe.Pointer(&mem[0])))
}
