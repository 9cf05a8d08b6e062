//go:build linux

package stress

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// requireMount skips t where this process cannot mount (not root), or fails
// it when STRESS_REQUIRE_MOUNT=1.
func requireMount(t *testing.T, err error) {
	t.Helper()
	if os.Getenv("STRESS_REQUIRE_MOUNT") == "1" {
		t.Fatalf("mounting required (STRESS_REQUIRE_MOUNT=1): %v", err)
	}
	t.Skipf("cannot mount here: %v", err)
}

// mountTmpfs mounts a tmpfs of the given size (mount's size= syntax) on a
// fresh directory and unmounts it when the test ends, after everything
// registered later (Buckets opened on it) is closed.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		requireMount(t, errors.New("not root"))
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size="+size); err != nil {
		requireMount(t, err)
	}
	t.Cleanup(func() { unmount(t, dir) })
	return dir
}

// bindReadOnly mounts dir read-only on a fresh directory, leaving dir
// writable, and unmounts it when the test ends.
func bindReadOnly(t *testing.T, dir string) string {
	t.Helper()
	ro := t.TempDir()
	if err := unix.Mount(dir, ro, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind mount: %v", err)
	}
	t.Cleanup(func() { unmount(t, ro) })
	if err := unix.Mount("", ro, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount read-only: %v", err)
	}
	return ro
}

func unmount(t *testing.T, dir string) {
	if err := unix.Unmount(dir, 0); err != nil {
		t.Errorf("unmount %s: %v (detaching it)", dir, err)
		unix.Unmount(dir, unix.MNT_DETACH)
	}
}
