//go:build linux

package fusefs

import (
	"os"
	"testing"

	"github.com/bucketcache/bucketcache/internal/childtest"
)

// TestMain leaves the helper tests, which run only in child processes, out
// of ordinary runs (see package childtest).
func TestMain(m *testing.M) {
	childtest.Main(m, os.Getenv(serveEnv) != "", "TestHelperServe")
}
