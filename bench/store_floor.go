package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

func init() {
	register(&storeKind{
		name:         "floor",
		multiProcess: true,
		noWarm:       true,
		proto:        (*floorKV)(nil),
		note:         "the least a file-per-key cache must do: open+write+close a temp file, rename; open+fstat+read+close",
		open:         openFloor,
	})
}

// floorKV is the physical floor of a file-per-key cache: raw system calls,
// one file per key in 256 directories opened once, no locks, no checksums,
// no memory layer.
type floorKV struct {
	dirs [shardDirs]int // descriptors of the shard directories
	tmp  string         // per-process temp suffix
	seq  uint64
}

var _ kv = (*floorKV)(nil)

func openFloor(dir string) (kv, error) {
	f := &floorKV{tmp: "." + strconv.Itoa(os.Getpid())}
	for i := range f.dirs {
		d := filepath.Join(dir, fmt.Sprintf("%02x", i))
		if err := os.MkdirAll(d, 0o777); err != nil {
			return nil, err
		}
		fd, err := unix.Open(d, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			f.closeDirs(i)
			return nil, &os.PathError{Op: "open", Path: d, Err: err}
		}
		f.dirs[i] = fd
	}
	return f, nil
}

func (f *floorKV) dirOf(key string) int {
	n, _ := strconv.ParseUint(shardName(key), 16, 8)
	return f.dirs[n]
}

func (f *floorKV) Set(key string, value []byte) error {
	d := f.dirOf(key)
	f.seq++
	tmp := ".tmp-" + key + f.tmp + "." + strconv.FormatUint(f.seq, 10)
	fd, err := unix.Openat(d, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o666)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	for b := value; len(b) > 0; {
		n, err := unix.Write(fd, b)
		if err != nil {
			unix.Close(fd)
			unix.Unlinkat(d, tmp, 0)
			return fmt.Errorf("write %s: %w", tmp, err)
		}
		b = b[n:]
	}
	if err := unix.Close(fd); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := unix.Renameat(d, tmp, d, key); err != nil {
		unix.Unlinkat(d, tmp, 0)
		return fmt.Errorf("rename %s: %w", key, err)
	}
	return nil
}

func (f *floorKV) Get(key string) ([]byte, bool, error) {
	fd, err := unix.Openat(f.dirOf(key), key, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("open %s: %w", key, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, false, fmt.Errorf("stat %s: %w", key, err)
	}
	buf := make([]byte, st.Size)
	for off := 0; off < len(buf); {
		n, err := unix.Read(fd, buf[off:])
		if err != nil {
			return nil, false, fmt.Errorf("read %s: %w", key, err)
		}
		if n == 0 {
			return nil, false, fmt.Errorf("read %s: file shrank", key)
		}
		off += n
	}
	return buf, true, nil
}

func (f *floorKV) Close() error {
	f.closeDirs(len(f.dirs))
	return nil
}

func (f *floorKV) closeDirs(n int) {
	for _, fd := range f.dirs[:n] {
		unix.Close(fd)
	}
}
