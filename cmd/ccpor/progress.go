package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"
)

// progress reports a long job on stderr: a line redrawn in place on a
// terminal, or a line every few seconds in a log.
type progress struct {
	w        io.Writer
	label    string
	total    int64 // in the unit of pos (bytes for import); 0 when unknown
	tty      bool
	start    time.Time
	last     time.Time
	pos, n   int64
	finished bool
}

func newProgress(w io.Writer, label string, total int64) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, label: label, total: total, tty: ok && term.IsTerminal(int(f.Fd())), start: time.Now()}
}

// set records that the job is at pos of total, having handled n items.
func (p *progress) set(pos, n int64) {
	p.pos, p.n = pos, n
	every := 5 * time.Second
	if p.tty {
		every = 200 * time.Millisecond
	}
	if time.Since(p.last) >= every {
		p.print()
	}
}

func (p *progress) print() {
	p.last = time.Now()
	elapsed := time.Since(p.start).Seconds()
	rate := float64(p.n) / max(elapsed, 1e-9)
	pct := ""
	if p.total > 0 {
		pct = fmt.Sprintf(" %5.1f%%", 100*float64(p.pos)/float64(p.total))
	}
	line := fmt.Sprintf("%s:%s %d orders, %.0f orders/s, %.0fs", p.label, pct, p.n, rate, elapsed)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}

func (p *progress) done() {
	if p.finished {
		return
	}
	p.finished = true
	p.print()
	if p.tty {
		fmt.Fprintln(p.w)
	}
}
