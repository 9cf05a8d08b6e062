// Command bucketfs shows a bucketcache bucket directory to people and
// tools: as a read-only FUSE filesystem (mount), on the command line (ls,
// get, stats) and for maintenance (prune, verify). Run "bucketfs help" for
// the subcommands and exit codes, "bucketfs SUBCOMMAND -h" for one
// subcommand's flags and an example.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/bucketcache/bucketcache/fusefs"
	"github.com/bucketcache/bucketcache/internal/view"
	"github.com/bucketcache/bucketcache/shard"
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

// command is one subcommand: how to call it and what it does. The overall
// help and each subcommand's -h are drawn from these.
type command struct {
	name     string
	synopsis string // flags and arguments, after "bucketfs NAME "
	about    string // what it does, one paragraph
	example  string // one or more example lines
	run      func(args []string, stdout, stderr io.Writer) error
}

// commands are the subcommands in the order the help lists them.
var commands = []*command{
	{
		name:     "mount",
		synopsis: "[-allow-other] [-debug] BUCKET_DIR MOUNTPOINT",
		about: `Mount a read-only view of the bucket: one file per live entry, named
after its key, holding its decoded value, with the entry's metadata in
extended attributes (user.bucketcache.*). Runs in the foreground; SIGINT
or SIGTERM unmounts and exits 0. If a process still uses the mount, it
says which; a second signal then unmounts, or detaches the mount lazily
if it is still in use. A stale mount left on MOUNTPOINT by a killed
server is cleared first. Root mounts directly; other users need
fusermount3 (package fuse3) and read-write access to /dev/fuse.`,
		example: "bucketfs mount ~/.cache/myapp /mnt/myapp",
	},
	{
		name:     "ls",
		synopsis: "[-l] BUCKET_DIR",
		about: `List the live entries, one name a line, exactly as the mount names
them, shard by shard (pipe to sort for order). -l adds the content size,
codec, written-at and expires-at times.`,
		example: "bucketfs ls -l ~/.cache/myapp | sort -k5",
	},
	{
		name:     "get",
		synopsis: "BUCKET_DIR NAME",
		about: `Print the entry NAME exactly as the mount shows its content. NAME is
the name ls prints; put -- before a NAME that starts with '-'.`,
		example: "bucketfs get ~/.cache/myapp paris\nbucketfs get ~/.cache/myapp -- -negative",
	},
	{
		name:     "stats",
		synopsis: "BUCKET_DIR",
		about: `Count live, expired, damaged and temporary files, their bytes, and how
evenly entries spread over the shards. Entries are checked in full, as
ls checks them (a damaged entry is never counted live).`,
		example: "bucketfs stats ~/.cache/myapp",
	},
	{
		name:     "prune",
		synopsis: "[-full] BUCKET_DIR",
		about: `Delete expired entries, abandoned temporary and key lock files, and
damaged entry files whose damage shows without reading values
(truncated, bad header, misplaced key, a symlink in an entry's place),
shard by shard under each shard's lock. -full reads every entry in full
and also deletes entries whose value is damaged. Files that are not the
bucket's are never deleted. Safe while other processes use the bucket.`,
		example: "bucketfs prune ~/.cache/myapp\nbucketfs prune -full ~/.cache/myapp",
	},
	{
		name:     "verify",
		synopsis: "[-fix] BUCKET_DIR",
		about: `Read every entry in full (checksums, key) and report damaged ones;
-fix removes them (re-checked under the shard's lock). Exits 1 while
damaged entry files remain.`,
		example: "bucketfs verify ~/.cache/myapp && echo sound\nbucketfs verify -fix ~/.cache/myapp",
	},
	{
		name:     "demo",
		synopsis: "[-keep]",
		about: `Create a temporary bucket, use the library on it, mount it if FUSE is
available, and tell what happened. -keep keeps the bucket.`,
		example: "bucketfs demo -keep",
	},
	{
		name:     "gocacheprog",
		synopsis: "[-max-bytes N] [-shared] [-local DIR] [-stats] BUCKET_DIR",
		about: `Keep the go command's build cache in the bucket, speaking its
GOCACHEPROG protocol on stdin and stdout. Outputs are handed to the go
command as files in the -local directory, each checked against its
SHA-256 first. -max-bytes bounds the bucket; -stats prints the gets,
hits, puts and bytes on stderr at the end. See docs/gocacheprog.md.`,
		example: "bucketfs gocacheprog -stats /mnt/gocache    # as the go command starts it, given\nGOCACHEPROG=\"bucketfs gocacheprog -stats /mnt/gocache\" go build ./...",
	},
	{
		name:     "version",
		synopsis: "",
		about:    "Print the module version of bucketfs and the Go version that built it.",
		example:  "bucketfs version",
	},
}

// init attaches each subcommand's function: set in the table itself, they
// would make an initialization cycle (a subcommand's parse looks its help
// up in the table). A new subcommand needs an entry in both.
func init() {
	for _, c := range commands {
		c.run = map[string]func([]string, io.Writer, io.Writer) error{
			"mount": cmdMount, "ls": cmdLs, "get": cmdGet, "stats": cmdStats, "prune": cmdPrune,
			"verify": cmdVerify, "demo": cmdDemo, "version": cmdVersion, "gocacheprog": cmdGocacheprog,
		}[c.name]
	}
}

// lookup finds a subcommand by name.
func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// usageLine is "bucketfs NAME SYNOPSIS".
func (c *command) usageLine() string {
	return strings.TrimSpace("bucketfs " + c.name + " " + c.synopsis)
}

// usage is the overall help: every subcommand, the names, the exit codes.
func usage() string {
	var b strings.Builder
	b.WriteString("bucketfs: look at a bucketcache bucket directory\n\nUsage:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %s\n", c.usageLine())
		for _, l := range strings.Split(c.about, "\n") {
			fmt.Fprintf(&b, "        %s\n", l)
		}
	}
	b.WriteString(`  bucketfs help [SUBCOMMAND]
        Print this text, or a subcommand's help with an example (also
        bucketfs SUBCOMMAND -h).

Flags go before or after the arguments; after --, everything is an
argument.

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
     available (/dev/fuse missing or not open to this user), or mounting
     is not permitted (not root and no fusermount3)
`)
	return b.String()
}

// help is a subcommand's -h text: what it does, its flags, an example.
func (c *command) help(fl *flag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s\n", c.usageLine())
	if c.about != "" {
		fmt.Fprintf(&b, "\n%s\n", c.about)
	}
	if fl != nil {
		hasFlags := false
		fl.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			b.WriteString("\nFlags (before or after the arguments):\n")
			fl.SetOutput(&b)
			fl.PrintDefaults()
			fl.SetOutput(io.Discard)
		}
	}
	if c.example != "" {
		b.WriteString("\nExample:\n")
		for _, l := range strings.Split(c.example, "\n") {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	b.WriteString("\nbucketfs help lists the exit codes.\n")
	return b.String()
}

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

// helpRequest is what parse returns for -h: the help to print on stdout.
type helpRequest struct{ text string }

func (h *helpRequest) Error() string { return flag.ErrHelp.Error() }
func (h *helpRequest) Unwrap() error { return flag.ErrHelp }

// run runs the command line args and returns the exit code. Every error is
// printed once, on stderr, by run itself.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		io.WriteString(stderr, usage())
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c := lookup(args[1]); c != nil {
				return run([]string{c.name, "-h"}, stdout, stderr)
			}
			fmt.Fprintf(stderr, "bucketfs help: unknown subcommand %q\n", args[1])
			return exitUsage
		}
		io.WriteString(stdout, usage())
		return exitOK
	case "-version", "--version":
		name = "version"
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(stderr, "bucketfs: unknown subcommand %q (run bucketfs help)\n", name)
		return exitUsage
	}
	err := c.run(args[1:], stdout, stderr)
	if err == nil {
		return exitOK
	}
	var h *helpRequest
	if errors.As(err, &h) {
		io.WriteString(stdout, h.text)
		return exitOK
	}
	fmt.Fprintf(stderr, "bucketfs %s: %v\n", name, err)
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.code == exitUsage {
			fmt.Fprintf(stderr, "usage: %s (bucketfs %s -h for help)\n", c.usageLine(), c.name)
		}
		return ee.code
	}
	return exitFailure
}

// parse parses a subcommand's flags, which may come before, between or
// after its arguments (after "--" everything is an argument), and checks
// the argument count. It prints nothing (stderr is not written to): run
// prints the error, or the help for -h.
func parse(fl *flag.FlagSet, args []string, stderr io.Writer, names ...string) ([]string, error) {
	fl.SetOutput(io.Discard)
	fl.Usage = func() {}
	var pos []string
	for rest := args; ; {
		err := fl.Parse(rest)
		if errors.Is(err, flag.ErrHelp) {
			c := lookup(fl.Name())
			if c == nil {
				c = &command{name: fl.Name(), synopsis: "[flags] " + strings.Join(names, " ")}
			}
			return nil, &helpRequest{c.help(fl)}
		}
		if err != nil {
			return nil, &exitError{exitUsage, err}
		}
		left := fl.Args()
		if len(left) == 0 {
			break
		}
		if used := len(rest) - len(left); used > 0 && rest[used-1] == "--" {
			pos = append(pos, left...) // everything after -- is an argument
			break
		}
		pos, rest = append(pos, left[0]), left[1:]
	}
	if len(pos) != len(names) {
		what := "no arguments"
		if len(names) > 0 {
			what = fmt.Sprintf("%s (%s)", count(len(names), "argument"), strings.Join(names, " "))
		}
		return nil, fail(exitUsage, "takes %s, got %d: %q", what, len(pos), pos)
	}
	return pos, nil
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
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, shard.ErrNotBucket) || errors.Is(err, syscall.ENOTDIR) {
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
