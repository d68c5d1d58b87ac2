package index

import (
	"bytes"
	"hash/maphash"
	"strings"
)

// termList builds a keyword list in the form termsAnalysis reads (terms
// joined by termSep), dropping repeats as it goes. An order has about a
// hundred terms and a rebuild a million orders: a string and a map entry
// for each term, and a scan of the list for each repeat, were a tenth of
// a rebuild's CPU and much of its garbage. Terms are written straight into
// one buffer and told apart by hash, with the bytes compared when two
// hashes agree, so a collision never drops a term.
type termList struct {
	buf    []byte
	ends   []int    // end of each term in buf
	hashes []uint64 // hash of each term
}

var termSeed = maphash.MakeSeed()

// add appends the term made of parts run together, unless it is empty or
// already listed.
func (l *termList) add(parts ...string) {
	start := len(l.buf)
	if len(l.ends) > 0 {
		start++
		l.buf = append(l.buf, termSep...)
	}
	for _, p := range parts {
		l.buf = append(l.buf, p...)
	}
	t := l.buf[start:]
	if len(t) == 0 {
		l.buf = l.buf[:max(start-1, 0)]
		return
	}
	h := maphash.Bytes(termSeed, t)
	for i, o := range l.hashes {
		if o == h && bytes.Equal(l.term(i), t) {
			l.buf = l.buf[:max(start-1, 0)]
			return
		}
	}
	l.ends = append(l.ends, len(l.buf))
	l.hashes = append(l.hashes, h)
}

// reset empties the list, keeping its memory.
func (l *termList) reset() {
	l.buf, l.ends, l.hashes = l.buf[:0], l.ends[:0], l.hashes[:0]
}

// term returns the i-th term.
func (l *termList) term(i int) []byte {
	start := 0
	if i > 0 {
		start = l.ends[i-1] + 1
	}
	return l.buf[start:l.ends[i]]
}

// String returns the list as one field value.
func (l *termList) String() string { return string(l.buf) }

// strings returns the terms one by one.
func (l *termList) strings() []string {
	if len(l.ends) == 0 {
		return nil
	}
	return strings.Split(string(l.buf), termSep)
}
