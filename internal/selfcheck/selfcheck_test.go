package selfcheck

import (
	"errors"
	"testing"
)

func TestCheck(t *testing.T) {
	v := New("k", "p1/g2", 7, 100)
	if err := Check("k", v); err != nil {
		t.Fatal(err)
	}
	if err := Check("other", v); !errors.Is(err, ErrForeign) {
		t.Fatalf("foreign value: %v", err)
	}
	mixed := v
	mixed.Seq = 8
	if Check("k", mixed) == nil {
		t.Fatal("mixed sequence number not detected")
	}
	torn := New("k", "p1/g2", 7, 100)
	torn.Pad = torn.Pad[:50]
	if Check("k", torn) == nil {
		t.Fatal("truncated padding not detected")
	}
	flipped := New("k", "p1/g2", 7, 100)
	flipped.Pad[10] ^= 1
	if Check("k", flipped) == nil {
		t.Fatal("flipped byte not detected")
	}
}
