package shard

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
)

// resum recomputes the header checksum of an entry after a test edits it.
func resum(b []byte) {
	binary.LittleEndian.PutUint64(b[offHeaderSum:], xxhash.Sum64(b[:offHeaderSum]))
}
