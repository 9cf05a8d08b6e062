// Package childtest keeps helper tests out of ordinary test runs.
//
// A helper test is a Test function that a test runs in a child process (the
// test binary run again with -test.run naming the helper and an environment
// variable saying what to do), so that crashes, kills and cross-process
// locking can be tested. Being a Test function gives the child a
// *testing.T; but in an ordinary run the helper has nothing to do, and a
// t.Skip would print "--- SKIP" under -v for every helper, hiding the
// skips that mean something (no FUSE, not root).
//
// Main, called from TestMain, leaves the helpers out of ordinary runs
// through -test.skip, which reports nothing for the tests it leaves out.
package childtest

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

// Main parses the test flags, leaves the tests named by helpers out of the
// run unless child is true, runs the tests and exits with their status.
// child must be true exactly in a child process, usually when the
// environment variable the parent sets for its child is present:
//
//	func TestMain(m *testing.M) {
//		childtest.Main(m, os.Getenv(childEnv) != "", "TestChildWriter")
//	}
//
// A -skip pattern given on the command line is kept and extended. One that
// names subtests (it contains '/') cannot be extended safely and is left
// alone; the helpers then run and skip themselves as before.
func Main(m *testing.M, child bool, helpers ...string) {
	os.Exit(Run(m, child, helpers...))
}

// Run is Main without the exit, for a TestMain with work to do after the
// tests: it returns m.Run's exit code.
func Run(m *testing.M, child bool, helpers ...string) int {
	flag.Parse()
	if !child && len(helpers) > 0 {
		skip := flag.Lookup("test.skip")
		if pattern, ok := Pattern(skip.Value.String(), helpers); ok {
			skip.Value.Set(pattern)
		}
	}
	return m.Run()
}

// Pattern returns the -test.skip pattern that leaves out the helpers as
// well as what user (the pattern given on the command line, possibly empty)
// leaves out. It reports false when user names subtests.
func Pattern(user string, helpers []string) (string, bool) {
	quoted := make([]string, len(helpers))
	for i, h := range helpers {
		quoted[i] = regexp.QuoteMeta(h)
	}
	pattern := "^(" + strings.Join(quoted, "|") + ")$"
	switch {
	case user == "":
		return pattern, true
	case strings.Contains(user, "/"):
		return "", false
	}
	return user + "|" + pattern, true
}
