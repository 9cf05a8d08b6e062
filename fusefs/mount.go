//go:build linux

package fusefs

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/bucketcache/bucketcache/internal/view"
)

// NodeOptions returns the go-fuse options Mount uses for a view of dir.
func NodeOptions(dir *view.Dir, opts Options) *gofs.Options {
	entryTimeout, zero := EntryTimeout, time.Duration(0)
	direct := os.Geteuid() == 0
	name := "bucketfs"
	if !strings.ContainsAny(dir.Path(), ", \t\n\\") {
		name = "bucketfs:" + dir.Path()
	}
	return &gofs.Options{
		EntryTimeout:    &entryTimeout,
		AttrTimeout:     &zero,
		NegativeTimeout: &zero,
		Logger:          opts.Logger,
		MountOptions: fuse.MountOptions{
			AllowOther:         opts.AllowOther,
			Options:            []string{"ro", "default_permissions"},
			FsName:             name,
			Name:               "bucketfs",
			DirectMount:        direct,
			DirectMountStrict:  direct,
			DirectMountFlags:   unix.MS_NOSUID | unix.MS_NODEV | unix.MS_RDONLY,
			DisableReadDirPlus: true, // plain ls must not look up (and pin) every entry
			ExtraCapabilities:  fuse.CAP_DIRECT_IO_ALLOW_MMAP,
			Debug:              opts.Debug,
			Logger:             opts.Logger,
		},
	}
}

// Server is a mounted view.
type Server struct {
	fuse       *fuse.Server
	dir        *view.Dir
	mountpoint string
	direct     bool
	done       chan struct{}
	unmountMu  sync.Mutex
}

// Mount mounts a read-only view of the bucket directory bucketDir on
// mountpoint and serves it until it is unmounted. As root it calls mount(2)
// itself; other users need fusermount3 (or fusermount) from the fuse3
// package, and read-write access to /dev/fuse. A stale mount left on mountpoint by a server that died (statfs
// fails with ENOTCONN) is detached first.
//
// Errors name the path: a bucket directory that does not exist
// (fs.ErrNotExist) or is not a bucket (shard.ErrNotBucket); ErrMountpoint,
// ErrNoFUSE, ErrNotPermitted.
func Mount(bucketDir, mountpoint string, opts Options) (*Server, error) {
	dir, err := view.Open(bucketDir, view.Options{Now: opts.Now})
	if err != nil {
		return nil, err
	}
	s, err := mount(dir, mountpoint, opts)
	if err != nil {
		dir.Close()
		return nil, err
	}
	return s, nil
}

func mount(dir *view.Dir, mountpoint string, opts Options) (*Server, error) {
	mnt, err := filepath.Abs(mountpoint)
	if err != nil {
		return nil, fmt.Errorf("mountpoint %s: %w", mountpoint, err)
	}
	if _, err := ClearStale(mnt); err != nil {
		return nil, err
	}
	if err := checkMountpoint(mnt); err != nil {
		return nil, err
	}
	if err := CheckFUSE(); err != nil {
		return nil, err
	}
	nodeOpts := NodeOptions(dir, opts)
	if opts.Logger == nil && opts.Debug {
		nodeOpts.MountOptions.Logger = log.Default()
	}
	srv, err := gofs.Mount(mnt, NewRoot(dir, opts.Logger), nodeOpts)
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return nil, fmt.Errorf("mount %s: %w: %v", mnt, ErrNotPermitted, err)
		}
		if msg := strings.TrimSpace(err.Error()); strings.HasPrefix(msg, "fusermount exited") {
			// fusermount3 printed its reason on stderr itself.
			return nil, fmt.Errorf("mount %s: %w: fusermount3 refused the mount (%s; its reason is printed above): run as root, or see that this user may use FUSE", mnt, ErrNotPermitted, msg)
		}
		return nil, fmt.Errorf("mount %s: %w", mnt, err)
	}
	s := &Server{fuse: srv, dir: dir, mountpoint: mnt, direct: nodeOpts.DirectMount, done: make(chan struct{})}
	go func() {
		srv.Wait()
		dir.Close()
		close(s.done)
	}()
	return s, nil
}

func checkMountpoint(mnt string) error {
	fi, err := os.Stat(mnt)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("mountpoint %s does not exist: %w", mnt, ErrMountpoint)
	case err != nil:
		return fmt.Errorf("mountpoint %s: %w: %v", mnt, ErrMountpoint, err)
	case !fi.IsDir():
		return fmt.Errorf("mountpoint %s is not a directory: %w", mnt, ErrMountpoint)
	}
	return nil
}

// CheckFUSE reports whether this process can mount: the FUSE device must
// exist and this user must be able to open it for reading and writing (as
// fusermount3 checks for users other than root); other users also need
// fusermount3 or fusermount. The error wraps ErrNoFUSE or ErrNotPermitted,
// and its text says what to do.
func CheckFUSE() error { return checkFUSE(DevFUSE, os.Geteuid() == 0) }

func checkFUSE(dev string, root bool) error {
	if _, err := os.Stat(dev); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %s does not exist (load the fuse kernel module; in a container, pass the device in)", ErrNoFUSE, dev)
		}
		return fmt.Errorf("%w: %v", ErrNoFUSE, err)
	}
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		if !root && errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("%w: this user may not open %s (run as root, or give this user read and write access to %s, as the fuse3 package's udev rule does with mode 0666)", ErrNoFUSE, dev, dev)
		}
		return fmt.Errorf("%w: %v", ErrNoFUSE, err)
	}
	f.Close()
	if !root && fusermount() == "" {
		return fmt.Errorf("%w: not root, and no fusermount3 or fusermount to mount with (install the fuse3 package, or run as root)", ErrNotPermitted)
	}
	return nil
}

// fusermount returns the path of the fusermount helper, or "".
func fusermount() string {
	for _, name := range []string{"fusermount3", "fusermount"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		for _, dir := range []string{"/bin", "/usr/bin"} {
			p := filepath.Join(dir, name)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return p
			}
		}
	}
	return ""
}

// ClearStale detaches a dead FUSE mount from mountpoint: one whose server
// was killed, so that every access fails with ENOTCONN. It reports whether
// there was one. A live mount, or none, is left alone.
func ClearStale(mountpoint string) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(mountpoint, &st); err != unix.ENOTCONN {
		return false, nil
	}
	if err := detach(mountpoint, os.Geteuid() == 0); err != nil {
		return true, fmt.Errorf("mountpoint %s: clearing the stale mount left by a dead server: %w", mountpoint, err)
	}
	return true, nil
}

// detach unmounts lazily: the mount leaves the namespace at once, and goes
// away when the last user lets go.
func detach(mnt string, direct bool) error {
	if direct {
		return unix.Unmount(mnt, unix.MNT_DETACH)
	}
	bin := fusermount()
	if bin == "" {
		return fmt.Errorf("%w: no fusermount3 or fusermount", ErrNotPermitted)
	}
	out, err := exec.Command(bin, "-u", "-z", mnt).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s -u -z %s: %v: %s", bin, mnt, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Mountpoint is the absolute path the view is mounted on.
func (s *Server) Mountpoint() string { return s.mountpoint }

// Done is closed once the filesystem is unmounted (by Unmount, UnmountLazy
// or from outside) and the server has stopped.
func (s *Server) Done() <-chan struct{} { return s.done }

// Wait blocks until the filesystem is unmounted and the server has stopped.
func (s *Server) Wait() { <-s.done }

// Unmount unmounts the filesystem and waits for the server to stop. While a
// process has a file open or its working directory inside the mount, it
// fails with an error wrapping ErrBusy, after retrying for a moment; then
// UnmountLazy detaches it anyway.
func (s *Server) Unmount() error {
	s.unmountMu.Lock()
	defer s.unmountMu.Unlock()
	select {
	case <-s.done:
		return nil
	default:
	}
	var err error
	if s.direct {
		for delay := 5 * time.Millisecond; ; delay *= 2 {
			err = unix.Unmount(s.mountpoint, 0)
			if err != unix.EBUSY || delay > 200*time.Millisecond {
				break
			}
			time.Sleep(delay) // the kernel may still be releasing closed files
		}
		if err == unix.EINVAL { // no longer mounted: unmounted from outside
			err = nil
		}
	} else {
		err = s.fuse.Unmount()
		if err != nil && strings.Contains(err.Error(), "busy") {
			err = unix.EBUSY
		}
	}
	if err == unix.EBUSY {
		return fmt.Errorf("unmount %s: %w (a process has a file open or its working directory there)", s.mountpoint, ErrBusy)
	}
	if err != nil {
		return fmt.Errorf("unmount %s: %w", s.mountpoint, err)
	}
	<-s.done
	return nil
}

// UnmountLazy detaches the filesystem at once, even when busy. The server
// goes on serving the processes that still use it until they let go; Done
// is closed then.
func (s *Server) UnmountLazy() error {
	s.unmountMu.Lock()
	defer s.unmountMu.Unlock()
	select {
	case <-s.done:
		return nil
	default:
	}
	if err := detach(s.mountpoint, s.direct); err != nil && err != unix.EINVAL {
		return fmt.Errorf("unmount %s: %w", s.mountpoint, err)
	}
	return nil
}
