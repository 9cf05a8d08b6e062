package main

import "errors"

// xattrs lists the extended attributes of path: Windows has none to show
// (the demo never gets this far there: it cannot mount).
func xattrs(path string) ([][2]string, error) {
	return nil, errors.New("extended attributes are not shown on Windows")
}
