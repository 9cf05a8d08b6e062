package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, "verify", 4)
	if p.on {
		t.Fatalf("progress is on for a buffer, which is not a terminal")
	}
	p.update(2)
	p.finish()
	if buf.Len() != 0 {
		t.Fatalf("progress drew on a non-terminal: %q", buf.String())
	}
	p.on, p.delay, p.minGap = true, 0, 0 // as on a terminal, drawing at once
	p.update(1)
	p.update(4)
	p.finish()
	out := buf.String()
	for _, want := range []string{"\rverify [#######.......................]  25% 1/4 shards", "100% 4/4 shards", "\r\033[K"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress output %q lacks %q", out, want)
		}
	}
	buf.Reset()
	p.finish()
	if buf.Len() != 0 {
		t.Errorf("finish erased twice")
	}
}
