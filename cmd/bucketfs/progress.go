package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// progress draws a one-line progress bar on stderr while a long run goes
// through a bucket's shards. It draws nothing unless stderr is a terminal,
// and nothing for runs that end within a fraction of a second.
type progress struct {
	w      io.Writer
	on     bool
	label  string
	total  int
	start  time.Time
	last   time.Time
	drawn  bool
	width  int
	delay  time.Duration // quiet this long before the first draw
	minGap time.Duration // between draws
}

func newProgress(stderr io.Writer, label string, total int) *progress {
	on := false
	if f, ok := stderr.(*os.File); ok {
		on = term.IsTerminal(int(f.Fd()))
	}
	return &progress{w: stderr, on: on, label: label, total: total, start: time.Now(),
		width: 30, delay: 300 * time.Millisecond, minGap: 100 * time.Millisecond}
}

// update reports that done of total shards are finished.
func (p *progress) update(done int) {
	if !p.on || p.total == 0 {
		return
	}
	now := time.Now()
	if now.Sub(p.start) < p.delay || now.Sub(p.last) < p.minGap && done < p.total {
		return
	}
	p.last = now
	p.drawn = true
	fill := p.width * done / p.total
	fmt.Fprintf(p.w, "\r%s [%s%s] %3d%% %d/%d shards", p.label,
		strings.Repeat("#", fill), strings.Repeat(".", p.width-fill), 100*done/p.total, done, p.total)
}

// finish erases the bar, if one was drawn.
func (p *progress) finish() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}
