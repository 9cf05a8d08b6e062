package fusefs

import (
	"errors"
	"log"
	"time"
)

// The errors Mount and Server return for the reasons a mount cannot be made
// or unmade. Test with errors.Is; the messages name the path.
var (
	// ErrNoFUSE reports that the FUSE device is missing or cannot be opened.
	ErrNoFUSE = errors.New("FUSE is not available")
	// ErrNotPermitted reports that the system refused the mount.
	ErrNotPermitted = errors.New("mounting is not permitted")
	// ErrMountpoint reports a mountpoint that is missing or not a directory.
	ErrMountpoint = errors.New("unusable mountpoint")
	// ErrBusy reports an unmount refused because the mount is in use.
	ErrBusy = errors.New("mount is busy")
)

// DevFUSE is the FUSE device.
const DevFUSE = "/dev/fuse"

// EntryTimeout is how long the kernel may remember that a name exists (or
// which file it is) before asking again. Attributes and failed lookups are
// never cached.
const EntryTimeout = time.Second

// Options configure Mount. The zero value is ready to use.
type Options struct {
	// Now is the clock that decides expiry. nil: time.Now.
	Now func() time.Time
	// AllowOther lets users other than the one who mounted use the mount
	// (subject to the entry files' permissions). A non-root user needs
	// user_allow_other in /etc/fuse.conf for it.
	AllowOther bool
	// Debug logs every FUSE request and reply to Logger.
	Debug bool
	// Logger receives debug output and reports of failures the kernel can
	// only be told about as EIO (an I/O error, a damaged value). nil: debug
	// output goes to the standard logger and failures are not reported.
	Logger *log.Logger
}
