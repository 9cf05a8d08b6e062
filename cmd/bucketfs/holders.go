package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// holder is a process that keeps a mount busy.
type holder struct {
	pid  int
	name string   // the command's name
	uses []string // what it holds there: "working directory", or a file's path
}

func (h holder) String() string {
	return fmt.Sprintf("%s (pid %d): %s", h.name, h.pid, strings.Join(h.uses, ", "))
}

// holders finds, through procfs, the processes whose working directory,
// root or open files lie under mnt, as fuser -m does. Only what this user
// may see is found: other users' processes hide their files from all but
// root. It reads links only, and so never enters the mount itself.
func holders(proc, mnt string) (found []holder, hidden bool) {
	entries, err := os.ReadDir(proc)
	if err != nil {
		return nil, true
	}
	self := os.Getpid()
	under := func(p string) (string, bool) {
		if p == mnt {
			return ".", true
		}
		rel, ok := strings.CutPrefix(p, strings.TrimSuffix(mnt, "/")+"/")
		return rel, ok
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		dir := filepath.Join(proc, e.Name())
		h := holder{pid: pid}
		for _, link := range []struct{ name, use string }{{"cwd", "working directory"}, {"root", "root directory"}} {
			p, err := os.Readlink(filepath.Join(dir, link.name))
			if os.IsPermission(err) {
				hidden = true
			}
			if _, ok := under(p); err == nil && ok {
				h.uses = append(h.uses, link.use)
			}
		}
		fds, err := os.ReadDir(filepath.Join(dir, "fd"))
		if os.IsPermission(err) {
			hidden = true
		}
		for _, fd := range fds {
			p, err := os.Readlink(filepath.Join(dir, "fd", fd.Name()))
			if rel, ok := under(p); err == nil && ok && !slices.Contains(h.uses, rel) {
				h.uses = append(h.uses, rel)
			}
		}
		if len(h.uses) == 0 {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join(dir, "comm"))
		h.name = strings.TrimSpace(string(comm))
		if h.name == "" {
			h.name = "?"
		}
		found = append(found, h)
	}
	return found, hidden
}

// busyMessage says what keeps mnt busy and what to do about it.
func busyMessage(mnt string, found []holder, hidden bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s is still in use, so it stays mounted.\n", mnt)
	switch {
	case len(found) > 0:
		b.WriteString("Close these files and leave these directories:\n")
		for _, h := range found {
			fmt.Fprintf(&b, "  %s\n", h)
		}
		if hidden {
			fmt.Fprintf(&b, "  (and perhaps processes whose files this user may not see: fuser -vm %s as root)\n", mnt)
		}
	case hidden:
		fmt.Fprintf(&b, "No process this user may see holds it; to see all: fuser -vm %s as root.\n", mnt)
	default:
		b.WriteString("No process holds a file there any more; it may have just let go.\n")
	}
	b.WriteString("Interrupt again to unmount once they let go. If it is still in use then, it\n")
	b.WriteString("is detached lazily: it vanishes at once, and bucketfs goes on serving the\n")
	b.WriteString("files already open until they are closed.")
	return b.String()
}
