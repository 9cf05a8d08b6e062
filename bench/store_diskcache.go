package main

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

//go:embed python/diskcache_worker.py
var diskcacheScript []byte

func init() {
	register(&storeKind{
		name:         "diskcache",
		multiProcess: true,
		python:       true,
		note:         "python-diskcache Cache driven from Python (SQLite in WAL mode, kept open and mapped; values of 32 KiB and more in files); size limit raised so nothing is evicted",
	})
}

// python is how the harness runs the Python driver.
type python struct {
	exe    string // the interpreter
	script string // the driver script, written out from the binary
}

// setupPython writes the driver script into dir and checks that exe can
// import diskcache. It returns the diskcache version, or an error saying why
// the diskcache rows cannot run.
func setupPython(exe, dir string) (*python, string, error) {
	script := filepath.Join(dir, "diskcache_worker.py")
	if err := os.WriteFile(script, diskcacheScript, 0o644); err != nil {
		return nil, "", err
	}
	out, err := exec.Command(exe, script, "--version").CombinedOutput()
	if err != nil {
		return nil, "", fmt.Errorf("%s cannot run the diskcache driver (install Debian's python3-diskcache): %v: %s", exe, err, strings.TrimSpace(string(out)))
	}
	return &python{exe: exe, script: script}, strings.TrimSpace(string(out)), nil
}
