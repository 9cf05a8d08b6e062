package main

import (
	"errors"

	badger "github.com/dgraph-io/badger/v4"
)

func init() {
	register(&storeKind{
		name:  "badger",
		proto: (*badgerKV)(nil),
		note:  "default options (no fsync), one Update per Set; one process at a time (directory lock)",
		open: func(dir string) (kv, error) {
			db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
			if err != nil {
				return nil, err
			}
			return &badgerKV{db: db}, nil
		},
	})
}

// badgerKV is a badger database; each Set is its own Update transaction.
type badgerKV struct{ db *badger.DB }

var (
	_ kv      = (*badgerKV)(nil)
	_ loader  = (*badgerKV)(nil)
	_ batcher = (*badgerKV)(nil)
)

func (s *badgerKV) Set(key string, value []byte) error {
	return s.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(key), value) })
}

func (s *badgerKV) Get(key string) (v []byte, ok bool, err error) {
	err = s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get([]byte(key))
		if err != nil {
			return err
		}
		v, err = it.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, nil
	}
	return v, err == nil, err
}

func (s *badgerKV) Close() error { return s.db.Close() }

// Load writes keys with a WriteBatch.
func (s *badgerKV) Load(keys []string, value func(int) []byte) error {
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for i, k := range keys {
		if err := wb.Set([]byte(k), value(i)); err != nil {
			return err
		}
	}
	return wb.Flush()
}

// Stage returns a commit that writes every key with one WriteBatch (which
// badger splits into transactions as large as it allows).
func (s *badgerKV) Stage(keys []string, value func(int) []byte) (func() error, error) {
	vals := make([][]byte, len(keys))
	for i := range keys {
		vals[i] = value(i)
	}
	return func() error {
		wb := s.db.NewWriteBatch()
		defer wb.Cancel()
		for i, k := range keys {
			if err := wb.Set([]byte(k), vals[i]); err != nil {
				return err
			}
		}
		return wb.Flush()
	}, nil
}
