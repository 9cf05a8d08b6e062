//go:build !linux || bucketcache_portable

package fsx

// OpenBeneath opens rel, a path relative to the directory root, without
// leaving it and without following any symbolic link on the way: one
// component at a time, each with O_NOFOLLOW. A symbolic link in the way
// fails with ELOOP or EXDEV (IsLink).
func OpenBeneath(root int, rel string, flags int, mode uint32) (int, error) {
	return openByComponents(root, rel, flags, mode)
}
