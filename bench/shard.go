package main

import (
	"fmt"
	"hash/fnv"
)

// shardDirs is the number of subdirectories the file-per-key peers (the raw
// floor, diskv) spread their files over, as bucketcache does by default.
const shardDirs = 256

// shardName is the subdirectory of key for the file-per-key peers.
func shardName(key string) string {
	h := fnv.New32a()
	h.Write([]byte(key))
	return fmt.Sprintf("%02x", h.Sum32()%shardDirs)
}
