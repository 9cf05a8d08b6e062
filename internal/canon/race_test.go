//go:build race

package canon_test

// raceEnabled reports whether the tests run under the race detector.
const raceEnabled = true
