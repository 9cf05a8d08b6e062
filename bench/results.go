package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// resultsFile is the name of the results in a -results directory.
const resultsFile = "results.json"

// readResults reads a results file written by a run.
func readResults(path string) (*results, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var res results
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("%s: not a results file: %w", path, err)
	}
	if len(res.Rows) == 0 {
		return nil, fmt.Errorf("%s: no rows", path)
	}
	sortRows(res.Rows)
	return &res, nil
}

// write puts the full tables and the charts into dir, and with data the
// results file too.
func (res *results) write(dir string, data bool) error {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	if data {
		err := writeFile(filepath.Join(dir, resultsFile), func(w io.Writer) {
			enc := json.NewEncoder(w)
			enc.SetIndent("", " ")
			enc.Encode(res) // a write error shows at Flush
		})
		if err != nil {
			return err
		}
	}
	return res.render(dir)
}

// writeFile creates path and fills it with fill.
func writeFile(path string, fill func(io.Writer)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fill(w)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
