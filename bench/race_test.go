//go:build race

package main

// raceEnabled: the race detector slows the workers several times over, so
// the smoke test trims its rows.
const raceEnabled = true
