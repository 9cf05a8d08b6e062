package main

import "path/filepath"

// render writes the full tables and the charts of res into dir.
func (res *results) render(dir string) error {
	return writeFile(filepath.Join(dir, "README.md"), res.markdown)
}
