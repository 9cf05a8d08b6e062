//go:build linux

package stress

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// buildBucketfs builds cmd/bucketfs into a temporary directory and returns
// its path, or "" and the reason it cannot (the command does not exist in
// this tree yet, or does not build).
func buildBucketfs(t *testing.T) (path, why string) {
	t.Helper()
	src := filepath.Join("..", "cmd", "bucketfs")
	if _, err := os.Stat(src); err != nil {
		return "", "cmd/bucketfs does not exist yet"
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		if gobin, err = exec.LookPath("go"); err != nil {
			return "", "no go command to build cmd/bucketfs with"
		}
	}
	path = filepath.Join(t.TempDir(), "bucketfs")
	cmd := exec.Command(gobin, "build", "-o", path, "./cmd/bucketfs")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("go build ./cmd/bucketfs: %v\n%s", err, out)
		return "", "cmd/bucketfs does not build"
	}
	return path, ""
}

// runBucketfs runs the bucketfs binary with args and returns its combined
// output and exit code (-1 when it could not run or was killed).
func runBucketfs(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		t.Errorf("bucketfs %v: %v", args, err)
		return string(out), -1
	}
	return string(out), 0
}
