//go:build !linux

package fusefs

import (
	"fmt"
	"runtime"
)

// errNoFUSE is what every call gives on this system.
var errNoFUSE = fmt.Errorf("%w: the read-only mount is served on Linux only, not on %s", ErrNoFUSE, runtime.GOOS)

// Server is a mounted view. On this system no mount can be made: Mount
// returns an error wrapping ErrNoFUSE.
type Server struct{}

// Mount mounts a read-only view of a bucket directory. On this system it
// returns an error wrapping ErrNoFUSE: the mount is served on Linux only.
func Mount(bucketDir, mountpoint string, opts Options) (*Server, error) { return nil, errNoFUSE }

// CheckFUSE reports whether this process can mount: on this system it
// cannot, and the error wraps ErrNoFUSE.
func CheckFUSE() error { return errNoFUSE }

// ClearStale detaches a dead FUSE mount; on this system there is none.
func ClearStale(mountpoint string) (bool, error) { return false, errNoFUSE }

// Done is closed when the mount ends; with no mount, at once.
func (s *Server) Done() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// Mountpoint is where the view is mounted: nowhere on this system.
func (s *Server) Mountpoint() string { return "" }

// Unmount unmounts the view: on this system there is none.
func (s *Server) Unmount() error { return errNoFUSE }

// UnmountLazy detaches the view: on this system there is none.
func (s *Server) UnmountLazy() error { return errNoFUSE }

// Wait waits for the mount to end: at once on this system.
func (s *Server) Wait() {}
