package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// cmdVersion prints the module version of this binary and the Go version
// that built it.
func cmdVersion(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("version", flag.ContinueOnError)
	if _, err := parse(fl, args, stderr); err != nil {
		return err
	}
	fmt.Fprintln(stdout, versionText())
	return nil
}

// versionText is "bucketfs MODULE VERSION[, revision R]; GO OS/ARCH".
func versionText() string {
	path, version, extra := "github.com/bucketcache/bucketcache", "(unknown)", ""
	goVersion := runtime.Version()
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path != "" {
			path = bi.Main.Path
		}
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if rev != "" {
			extra = ", revision " + rev[:min(len(rev), 12)]
			if modified == "true" {
				extra += " with local changes"
			}
		}
	}
	return strings.Join([]string{"bucketfs", path, version + extra + ";", goVersion, runtime.GOOS + "/" + runtime.GOARCH}, " ")
}
