package bucket

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"testing"
)

// startChild runs this test binary's test named test in a new process, with
// env added to its environment and its stdin and stdout piped to the caller
// (its stderr goes to this process's). The process is killed when t ends,
// if it is still running.
func startChild(t *testing.T, test string, env ...string) (*exec.Cmd, io.WriteCloser, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, stdin, bufio.NewReader(stdout)
}
