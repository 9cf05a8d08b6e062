//go:build linux

package fusefs

import (
	"bufio"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bucketcache/bucketcache/bucket"
)

// serveEnv, when set to "BUCKET_DIR\nMOUNTPOINT", makes TestHelperServe
// mount that view and serve it until killed: the server of TestKill9.
const serveEnv = "BUCKETFS_TEST_SERVE"

func TestHelperServe(t *testing.T) {
	arg := os.Getenv(serveEnv)
	if arg == "" {
		t.Skip("helper process for TestKill9")
	}
	dir, mnt, _ := strings.Cut(arg, "\n")
	if _, err := Mount(dir, mnt, Options{}); err != nil {
		os.Stdout.WriteString("error: " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString("ready\n")
	select {} // serve until killed
}

// TestKill9 kills a serving process with SIGKILL, which leaves a dead mount
// (ENOTCONN), and checks that a new Mount on the same mountpoint clears it
// and works.
func TestKill9(t *testing.T) {
	requireFUSE(t)
	dir := t.TempDir()
	b := openBucket[string, string](t, dir, bucket.Options{})
	must(t, b.Set("survivor", "still here"))
	mnt := t.TempDir()

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServe$")
	cmd.Env = append(os.Environ(), serveEnv+"="+dir+"\n"+mnt)
	out, err := cmd.StdoutPipe()
	must(t, err)
	cmd.Stderr = os.Stderr
	must(t, cmd.Start())
	killed := false
	t.Cleanup(func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
		// Whatever happened, leave no mount behind.
		var st unix.Statfs_t
		if unix.Statfs(mnt, &st) == unix.ENOTCONN || st.Type == unix.FUSE_SUPER_MAGIC {
			unix.Unmount(mnt, unix.MNT_DETACH)
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("server said %q, %v", line, err)
	}
	if got := names(t, mnt); !slices.Equal(got, []string{"survivor"}) {
		t.Fatalf("ls through the child's mount = %q", got)
	}
	must(t, cmd.Process.Signal(syscall.SIGKILL))
	cmd.Wait()
	killed = true

	var st unix.Statfs_t
	if err := unix.Statfs(mnt, &st); err != unix.ENOTCONN {
		t.Fatalf("statfs of the dead mount: %v, want ENOTCONN", err)
	}
	srv, err := Mount(dir, mnt, Options{})
	if err != nil {
		t.Fatalf("Mount over the dead mount: %v", err)
	}
	defer func() {
		if err := srv.Unmount(); err != nil {
			t.Errorf("Unmount: %v", err)
		}
	}()
	data, err := os.ReadFile(mnt + "/survivor")
	if err != nil || string(data) != "\"still here\"\n" {
		t.Fatalf("cat through the new mount = %q, %v", data, err)
	}
}
