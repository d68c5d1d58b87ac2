package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
	"github.com/google/uuid"
)

// maxLine caps one NDJSON line. An order is a few kilobytes; a longer line
// is a broken file, reported and skipped without reading it into memory.
const maxLine = 1 << 20

// importNamespace derives the ID of a line that gives none from the line's
// bytes, so importing the same file again finds the same IDs.
var importNamespace = uuid.MustParse("5b0c4a52-7d0e-4d4f-9a43-6363706f7201")

// ImportCommand adds orders from an NDJSON file, one order per line in the
// API's JSON, or from a NIEM exchange document (a file whose first
// character is "<": see ccpor.NewNIEMReader). Good orders are kept and bad
// ones reported, by line or by the order's number, line and element; the
// exit status is 2 when any was bad. XML that is broken or refused (a
// DOCTYPE, too deep, too large) stops the import there, keeping the
// orders before it.
type ImportCommand struct {
	Stdout, Stderr io.Writer
	db             dbFlags
}

// importStats counts what an import did.
type importStats struct {
	Lines, Inserted, Present, Bad int
}

// Run parses flags and imports the file.
func (c *ImportCommand) Run(ctx context.Context, args []string) error {
	var batch int
	fs := newFlagSet("import", "import [--batch N] FILE   (NDJSON or NIEM XML; FILE - reads standard input)", c.Stderr)
	fs.IntVar(&batch, "batch", 2000, "orders per transaction")
	c.db.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || batch < 1 {
		fs.Usage()
		return errors.New("import needs exactly one FILE and a positive --batch")
	}
	var in io.Reader = os.Stdin
	var size int64
	name := fs.Arg(0)
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
		in = f
	}
	br := bufio.NewReaderSize(in, 64<<10)
	isXML := sniffXML(br)
	db, err := c.db.open(ctx, slog.New(slog.NewTextHandler(c.Stderr, nil)))
	if err != nil {
		return err
	}
	defer db.Close()
	stats, err := importOrders(ctx, db, br, importOptions{
		Batch: batch, Source: "ccpor import " + name, Report: c.Stderr, Size: size, Now: time.Now(), XML: isXML,
	})
	unit := "lines"
	if isXML {
		unit = "XML orders"
	}
	fmt.Fprintf(c.Stdout, "%d %s: %d orders added, %d already present, %d bad\n",
		stats.Lines, unit, stats.Inserted, stats.Present, stats.Bad)
	if err != nil {
		return err
	}
	if stats.Bad > 0 {
		return exitError(2)
	}
	return nil
}

type importOptions struct {
	Batch  int
	Source string    // recorded as who made each version
	Report io.Writer // bad lines and progress
	Size   int64     // input size for progress, 0 when unknown
	Now    time.Time
	XML    bool // a NIEM exchange document, not NDJSON
}

// sniffXML reports whether the input is XML: its first character, after
// any byte order mark and white space, is "<". NDJSON starts with "{".
func sniffXML(br *bufio.Reader) bool {
	head, _ := br.Peek(4096)
	head = bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\uFEFF")), " \t\r\n")
	return len(head) > 0 && head[0] == '<'
}

// line is one NDJSON line and where it was, or one order of an XML
// document, decoded or with what is wrong with it.
type line struct {
	n       int
	data    []byte
	tooLong bool

	xml   bool
	order *ccpor.Order
	err   error
	where string // "order 3 (line 14)"
}

// chunk is a batch of lines on its way through the pipeline.
type chunk struct {
	seq    int
	lines  []line
	end    int64 // bytes read up to the end of this chunk
	orders []*ccpor.Order
	bad    []string
}

// importOrders reads NDJSON orders from r and stores the valid ones in
// batches. Lines are parsed in parallel while the previous batch is being
// written; batches are written, and bad lines reported, in file order.
func importOrders(ctx context.Context, db *store.DB, r io.Reader, opt importOptions) (importStats, error) {
	var stats importStats
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	read := make(chan *chunk, 2)
	parsed := make(chan *chunk, 2)
	var readErr error
	go func() {
		defer close(read)
		if opt.XML {
			readErr = readNIEMChunks(ctx, r, opt.Batch, read)
		} else {
			readErr = readChunks(ctx, r, opt.Batch, read)
		}
	}()
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ch := range read {
				parseChunk(ch, opt.Now)
				select {
				case parsed <- ch:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(parsed) }()

	p := newProgress(opt.Report, "import", opt.Size)
	defer p.done()
	pending := map[int]*chunk{}
	next := 0
	for ch := range parsed {
		pending[ch.seq] = ch
		for ch := pending[next]; ch != nil; ch = pending[next] {
			delete(pending, next)
			next++
			for _, b := range ch.bad {
				fmt.Fprintln(opt.Report, b)
			}
			stats.Lines += len(ch.lines)
			stats.Bad += len(ch.bad)
			k, err := db.InsertOrders(ctx, ch.orders, "import", opt.Source)
			if err != nil {
				return stats, err
			}
			stats.Inserted += k
			stats.Present += len(ch.orders) - k
			p.set(ch.end, int64(stats.Inserted+stats.Present))
		}
	}
	if err := ctx.Err(); err != nil {
		return stats, err
	}
	if stats.Inserted > 0 {
		if err := db.AnalyzeOrders(ctx); err != nil {
			return stats, err
		}
	}
	return stats, readErr
}

// readChunks splits r into chunks of n non-blank lines. A line longer than
// maxLine is passed on marked, without its bytes.
func readChunks(ctx context.Context, r io.Reader, n int, out chan<- *chunk) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var pos int64
	ch := &chunk{}
	lineNo := 0
	send := func() bool {
		ch.end = pos
		select {
		case out <- ch:
		case <-ctx.Done():
			return false
		}
		ch = &chunk{seq: ch.seq + 1}
		return true
	}
	for {
		data, tooLong, err := readLine(br, &pos)
		if len(data) > 0 || tooLong || err == nil {
			lineNo++
			if tooLong || len(bytes.TrimSpace(data)) > 0 {
				ch.lines = append(ch.lines, line{n: lineNo, data: data, tooLong: tooLong})
			}
		}
		if len(ch.lines) == n && !send() {
			return ctx.Err()
		}
		if err == io.EOF {
			break
		} else if err != nil {
			return err
		}
	}
	if len(ch.lines) > 0 {
		send()
	}
	return nil
}

// readNIEMChunks splits a NIEM exchange document into chunks of n
// orders, decoded as they are read (ccpor.NIEMReader). A problem with one
// order goes on with the order; anything else ends the document.
func readNIEMChunks(ctx context.Context, r io.Reader, n int, out chan<- *chunk) error {
	cr := &countingReader{r: r}
	nr := ccpor.NewNIEMReader(cr)
	ch := &chunk{}
	send := func() bool {
		ch.end = cr.n
		select {
		case out <- ch:
		case <-ctx.Done():
			return false
		}
		ch = &chunk{seq: ch.seq + 1}
		return true
	}
	var err error
	for {
		var o *ccpor.Order
		o, err = nr.Next()
		if errors.Is(err, io.EOF) {
			err = nil
			break
		} else if err != nil && !errors.As(err, new(*ccpor.Error)) {
			break
		}
		k, at := nr.Where()
		ch.lines = append(ch.lines, line{n: k, xml: true, order: o, err: err, where: fmt.Sprintf("order %d (line %d)", k, at)})
		if len(ch.lines) == n && !send() {
			return ctx.Err()
		}
	}
	if len(ch.lines) > 0 {
		send()
	}
	return err
}

// countingReader counts the bytes read through it, for progress.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readLine returns the next line without its newline. A line over maxLine
// is consumed but not kept.
func readLine(br *bufio.Reader, pos *int64) (data []byte, tooLong bool, err error) {
	for {
		frag, err := br.ReadSlice('\n')
		*pos += int64(len(frag))
		if !tooLong {
			if len(data)+len(frag) > maxLine+1 {
				tooLong, data = true, nil
			} else {
				data = append(data, frag...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimRight(data, "\r\n"), tooLong, err
	}
}

// parseChunk turns a chunk's lines into prepared orders and reports.
func parseChunk(ch *chunk, now time.Time) {
	for _, l := range ch.lines {
		if l.xml {
			o, err := l.order, l.err
			if err == nil {
				err = prepareImported(o, now)
			}
			if err != nil {
				ch.bad = append(ch.bad, fmt.Sprintf("%s: %s", l.where, describe(err)))
				continue
			}
			ch.orders = append(ch.orders, o)
			continue
		}
		if l.tooLong {
			ch.bad = append(ch.bad, fmt.Sprintf("line %d: longer than %d bytes; skipped", l.n, maxLine))
			continue
		}
		o, err := parseLine(l.data, now)
		if err != nil {
			ch.bad = append(ch.bad, fmt.Sprintf("line %d: %s", l.n, describe(err)))
			continue
		}
		ch.orders = append(ch.orders, o)
	}
	for i := range ch.lines {
		ch.lines[i].data, ch.lines[i].order = nil, nil // the orders are parsed; free the bytes
	}
}

// parseLine turns one NDJSON line into a prepared order, or an EInvalid
// error. A line without an id gets one derived from its bytes.
func parseLine(data []byte, now time.Time) (*ccpor.Order, error) {
	o, err := ccpor.ParseOrder(data)
	if err != nil {
		return nil, err
	}
	if o.ID == "" {
		o.ID = uuid.NewSHA1(importNamespace, bytes.TrimSpace(data)).String()
	}
	if err := o.Prepare(now); err != nil {
		return nil, err
	}
	return o, nil
}

// prepareImported prepares an order read from XML. One without an ID gets
// one derived from its content, so importing the document again finds it.
func prepareImported(o *ccpor.Order, now time.Time) error {
	if o.ID == "" {
		b, err := json.Marshal(o)
		if err != nil {
			return err
		}
		o.ID = uuid.NewSHA1(importNamespace, b).String()
	}
	return o.Prepare(now)
}

// describe is an error as one line: the message and each field problem.
func describe(err error) string {
	var e *ccpor.Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	parts := []string{e.Message}
	for _, p := range e.Problems {
		parts = append(parts, p.Field+": "+p.Detail)
	}
	return strings.Join(parts, "; ")
}
