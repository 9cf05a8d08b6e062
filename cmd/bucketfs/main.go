// Command bucketfs shows a bucketcache bucket directory to people and
// tools: as a read-only FUSE filesystem (mount), on the command line (ls,
// get, stats) and for maintenance (prune, verify). Run "bucketfs help" for
// the subcommands and exit codes.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/bucketcache/bucketcache/fusefs"
	"github.com/bucketcache/bucketcache/shard"
	"github.com/bucketcache/bucketcache/view"
)

// Exit codes.
const (
	exitOK       = 0 // success
	exitFailure  = 1 // the operation failed, or verify left damage in place
	exitUsage    = 2 // bad subcommand, flag or argument count
	exitNoBucket = 3 // BUCKET_DIR does not exist, is not a directory, or is not a bucket
	exitNoEntry  = 4 // get: no live entry has that name
	exitNoMount  = 5 // mount: unusable mountpoint, no FUSE, mount not permitted
)

const usage = `bucketfs: look at a bucketcache bucket directory

Usage:
  bucketfs mount [-allow-other] [-debug] BUCKET_DIR MOUNTPOINT
        Mount a read-only view of the bucket: one file per live entry, named
        after its key, holding its decoded value, with the entry's metadata in
        extended attributes (user.bucketcache.*). Runs in the foreground;
        SIGINT or SIGTERM unmounts and exits 0 (if the mount is busy, a second
        signal detaches it lazily). A stale mount left on MOUNTPOINT by a
        killed server is cleared first. Root mounts directly; other users need
        fusermount3 (package fuse3).
  bucketfs ls [-l] BUCKET_DIR
        List the live entries, one name a line, exactly as the mount names
        them, shard by shard (pipe to sort for order). -l adds the content
        size, codec, written-at and expires-at times.
  bucketfs get BUCKET_DIR NAME
        Print the entry NAME exactly as the mount shows its content.
  bucketfs stats BUCKET_DIR
        Count live, expired, damaged and temporary files, their bytes, and how
        evenly entries spread over the shards (reads headers only).
  bucketfs prune BUCKET_DIR
        Delete expired entries, damaged entry files and abandoned temporary
        files, shard by shard under each shard's lock.
  bucketfs verify [-fix] BUCKET_DIR
        Read every entry in full (checksums, key) and report damaged ones;
        -fix removes them (re-checked under the shard's lock).
  bucketfs demo [-keep]
        Create a temporary bucket, use the library on it, mount it if FUSE is
        available, and tell what happened. -keep keeps the bucket.
  bucketfs gocacheprog [-max-bytes N] [-shared] [-local DIR] [-stats] BUCKET_DIR
        Keep the go command's build cache in the bucket, speaking its
        GOCACHEPROG protocol on stdin and stdout:
        GOCACHEPROG="bucketfs gocacheprog DIR" go build ./...
        Outputs are handed to the go command as files in -local DIR, each
        checked against its SHA-256 first. -max-bytes bounds the bucket;
        -stats prints the gets, hits, puts and bytes on stderr at the end.
        See docs/gocacheprog.md.
  bucketfs help
        Print this text.

Names: a string key is shown as itself, any other key as '=' and its compact
JSON text; '%', '/', control characters and invalid UTF-8 are written %XX; a
leading '=' of a string is %3D; "", "." and ".." are shown as ="", ="." and
=".."; names over 255 bytes are cut and end in '~' and the key's 16-hex-digit
hash.

Long runs show a progress bar on stderr when it is a terminal.

Exit codes:
  0  success
  1  failure (an I/O error; verify found damage it did not remove)
  2  usage error
  3  BUCKET_DIR does not exist, is not a directory, or is not a bucket
  4  get: no live entry has that name
  5  mount: the mountpoint is missing or not a directory, FUSE is not
     available (/dev/fuse), or mounting is not permitted
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// exitError is an error with the exit code it calls for.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func fail(code int, format string, args ...any) error {
	return &exitError{code, fmt.Errorf(format, args...)}
}

// run runs the command line args and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		io.WriteString(stderr, usage)
		return exitUsage
	}
	cmds := map[string]func([]string, io.Writer, io.Writer) error{
		"mount":  cmdMount,
		"ls":     cmdLs,
		"get":    cmdGet,
		"stats":  cmdStats,
		"prune":  cmdPrune,
		"verify": cmdVerify,
		"demo":   cmdDemo,
	}
	cmds["gocacheprog"] = cmdGocacheprog
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		io.WriteString(stdout, usage)
		return exitOK
	}
	cmd, ok := cmds[name]
	if !ok {
		fmt.Fprintf(stderr, "bucketfs: unknown subcommand %q (run bucketfs help)\n", name)
		return exitUsage
	}
	err := cmd(args[1:], stdout, stderr)
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "bucketfs %s: %v\n", name, err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitFailure
}

// parse parses a subcommand's flags and checks its argument count.
func parse(fl *flag.FlagSet, args []string, stderr io.Writer, names ...string) ([]string, error) {
	fl.SetOutput(stderr)
	fl.Usage = func() {
		fmt.Fprintf(stderr, "usage: bucketfs %s [flags] %s\n", fl.Name(), strings.Join(names, " "))
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, &exitError{exitUsage, err}
	}
	if fl.NArg() != len(names) {
		fl.Usage()
		return nil, fail(exitUsage, "want %d arguments (%s), got %d", len(names), strings.Join(names, " "), fl.NArg())
	}
	return fl.Args(), nil
}

// openView opens a bucket directory for reading, with exit code 3 for a
// directory that is missing or not a bucket.
func openView(dir string) (*view.Dir, error) {
	d, err := view.Open(dir, view.Options{})
	if err != nil {
		return nil, bucketError(err)
	}
	return d, nil
}

// bucketError gives the errors that mean "no bucket here" exit code 3.
func bucketError(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, shard.ErrNotBucket) || strings.Contains(err.Error(), "not a directory") {
		return &exitError{exitNoBucket, err}
	}
	return err
}

// mountError gives the errors that mean "cannot mount here" exit code 5.
func mountError(err error) error {
	for _, target := range []error{fusefs.ErrMountpoint, fusefs.ErrNoFUSE, fusefs.ErrNotPermitted} {
		if errors.Is(err, target) {
			return &exitError{exitNoMount, err}
		}
	}
	return bucketError(err)
}

// size formats a byte count for people.
func size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
