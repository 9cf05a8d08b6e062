package shard

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// LimitsName is the file, at a bucket's root, where processes that keep the
// bucket under size limits record them, so that tools can show usage against
// them. It records the last limits a process opened the bucket with.
const LimitsName = "LIMITS"

// Limits are a bucket's size limits (0: none).
type Limits struct {
	MaxBytes   int64 `json:"max_bytes"`
	MaxEntries int64 `json:"max_entries"`
}

// ReadLimits returns the limits recorded in dir, or zero Limits when none are.
func ReadLimits(dir string) (Limits, error) {
	data, err := os.ReadFile(filepath.Join(dir, LimitsName))
	if errors.Is(err, fs.ErrNotExist) {
		return Limits{}, nil
	}
	if err != nil {
		return Limits{}, err
	}
	var l Limits
	if err := json.Unmarshal(data, &l); err != nil {
		return Limits{}, fmt.Errorf("%s: %v", filepath.Join(dir, LimitsName), err)
	}
	return l, nil
}

// WriteLimits records l in dir, atomically, unless it is recorded already.
func WriteLimits(dir string, l Limits) error {
	if old, err := ReadLimits(dir); err == nil && old == l {
		return nil
	}
	data, _ := json.Marshal(l)
	tmp := filepath.Join(dir, fmt.Sprintf("%s%s-%d-%d", TempPrefix, LimitsName, os.Getpid(), rand.Uint64()))
	if err := os.WriteFile(tmp, append(data, '\n'), 0o666); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, LimitsName)); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
