//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestHolders starts a process whose working directory and one open file
// lie under a directory, and checks that holders names both, and nothing
// outside.
func TestHolders(t *testing.T) {
	dir := t.TempDir()
	must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	f, err := os.Create(filepath.Join(dir, "sub", "held"))
	must(t, err)
	defer f.Close()
	cmd := exec.Command("sleep", "60")
	cmd.Dir = dir
	cmd.ExtraFiles = []*os.File{f}
	must(t, cmd.Start())
	defer func() { cmd.Process.Kill(); cmd.Wait() }()

	found, _ := holders("/proc", dir)
	i := slices.IndexFunc(found, func(h holder) bool { return h.pid == cmd.Process.Pid })
	if i < 0 {
		t.Fatalf("holders(%s) = %v, lacks pid %d", dir, found, cmd.Process.Pid)
	}
	h := found[i]
	if h.name != "sleep" || !slices.Equal(h.uses, []string{"working directory", "sub/held"}) {
		t.Errorf("holder = %+v", h)
	}
	if found, _ := holders("/proc", dir+"x"); slices.ContainsFunc(found, func(h holder) bool { return h.pid == cmd.Process.Pid }) {
		t.Errorf("a sibling directory's holders include pid %d", cmd.Process.Pid)
	}
	msg := busyMessage(dir, found[i:i+1], false)
	for _, w := range []string{dir + " is still in use", fmt.Sprintf("sleep (pid %d): working directory, sub/held", cmd.Process.Pid), "Interrupt again to unmount"} {
		if !strings.Contains(msg, w) {
			t.Errorf("busy message lacks %q:\n%s", w, msg)
		}
	}
	if msg := busyMessage(dir, nil, true); !strings.Contains(msg, "fuser -vm "+dir) {
		t.Errorf("busy message when nothing is visible:\n%s", msg)
	}
}
