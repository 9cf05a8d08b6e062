package main

import (
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/peterbourgon/diskv/v3"
)

func init() {
	register(&storeKind{
		name:         "diskv",
		multiProcess: true,
		warm:         true,
		proto:        (*diskvKV)(nil),
		note:         "TempDir set (atomic writes), 64 MiB cache (goes stale across processes), 256 directories",
		open: func(dir string) (kv, error) {
			return &diskvKV{d: diskv.New(diskv.Options{
				BasePath:     filepath.Join(dir, "data"),
				TempDir:      filepath.Join(dir, "tmp"),
				Transform:    func(key string) []string { return []string{shardName(key)} },
				CacheSizeMax: 64 << 20,
			})}, nil
		},
	})
}

// diskvKV is diskv configured as carefully as it allows: writes go to a temp
// file and are renamed into place.
type diskvKV struct{ d *diskv.Diskv }

var _ kv = (*diskvKV)(nil)

func (s *diskvKV) Set(key string, value []byte) error { return s.d.Write(key, value) }

func (s *diskvKV) Get(key string) ([]byte, bool, error) {
	v, err := s.d.Read(key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	return v, err == nil, err
}

func (s *diskvKV) Close() error { return nil }
