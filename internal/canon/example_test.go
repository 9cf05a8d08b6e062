package canon_test

import (
	"fmt"

	"github.com/bucketcache/bucketcache/internal/canon"
)

func ExampleMarshal() {
	type Key struct {
		User string
		Page int
		Tags map[string]bool
	}
	b, _ := canon.Marshal(Key{"ann", 2, map[string]bool{"z": true, "a": false}})
	fmt.Println(string(b))

	b, _ = canon.Marshal([]any{1, 1.0, "1", "caf\xe9", nil})
	fmt.Println(string(b))
	// Output:
	// {"User":"ann","Page":2,"Tags":{"a":false,"z":true}}
	// [1,1.0,"1","caf\udce9",null]
}

func ExampleUnmarshal() {
	var key struct {
		User string
		Page int
	}
	err := canon.Unmarshal([]byte(`{"User":"ann","Page":2}`), &key)
	fmt.Println(key, err)
	// Output: {ann 2} <nil>
}

func ExampleString() {
	s, ok := canon.String([]byte(`"caf\udce9"`))
	fmt.Printf("%q %v\n", s, ok)
	_, ok = canon.String([]byte(`42`))
	fmt.Println(ok)
	// Output:
	// "caf\xe9" true
	// false
}
