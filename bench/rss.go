package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// resetPeakRSS resets the kernel's record of this process's peak resident
// memory (VmHWM) to its current resident memory, and returns that, in bytes.
func resetPeakRSS() (int64, error) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return 0, fmt.Errorf("resetting peak RSS: %w", err)
	}
	return statusBytes("VmRSS:")
}

// peakRSS is the peak resident memory since the last reset, in bytes.
func peakRSS() (int64, error) { return statusBytes("VmHWM:") }

// statusBytes reads a "kB" field of /proc/self/status.
func statusBytes(field string) (int64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(line, []byte(field)); ok {
			f := bytes.Fields(rest)
			if len(f) != 2 || string(f[1]) != "kB" {
				break
			}
			kb, err := strconv.ParseInt(string(f[0]), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s line in /proc/self/status", field)
}
