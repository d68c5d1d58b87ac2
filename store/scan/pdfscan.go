package scan

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"io"
	"strconv"
)

// pdfNames are the PDF names that get a file refused, and why. Each one
// names something a viewer would run, open or hide from the clerk.
var pdfNames = map[string]string{
	"JavaScript":     CodePDFJavaScript,
	"JS":             CodePDFJavaScript,
	"EmbeddedFile":   CodePDFEmbeddedFile,
	"EmbeddedFiles":  CodePDFEmbeddedFile,
	"FileAttachment": CodePDFEmbeddedFile,
	"GoToE":          CodePDFEmbeddedFile, // go to a document embedded in this one
	"Launch":         CodePDFActiveContent,
	"RichMedia":      CodePDFActiveContent,
	"XFA":            CodePDFActiveContent,
	"SubmitForm":     CodePDFActiveContent,
	"ImportData":     CodePDFActiveContent,
	"GoToR":          CodePDFActiveContent, // open another file
	"Rendition":      CodePDFActiveContent,
	"Movie":          CodePDFActiveContent,
	"Sound":          CodePDFActiveContent,
	"Encrypt":        CodePDFEncrypted,
}

var pdfMessages = map[string]string{
	CodePDFJavaScript:    "The PDF contains JavaScript, which the registry does not accept. Print it to a new PDF, or scan the paper order, and upload that.",
	CodePDFEmbeddedFile:  "The PDF carries attached files, which the registry does not accept. Print it to a new PDF, or scan the paper order, and upload that.",
	CodePDFActiveContent: "The PDF contains interactive content (actions, forms or media), which the registry does not accept. Print it to a new PDF, or scan the paper order, and upload that.",
	CodePDFEncrypted:     "The PDF is encrypted or password-protected. Print it to a new PDF without protection, or scan the paper order, and upload that.",
}

func pdfRefusal(code string) error { return refusef(code, "%s", pdfMessages[code]) }

const (
	maxName = 127 // PDF's own limit on the length of a name
	// Budgets for inflating object streams: real ones are kilobytes, and a
	// file whose object streams inflate past these is a decompression bomb.
	maxObjStm   = 64 << 20
	maxInflated = 256 << 20
)

// scanPDF reads the whole file once, with bounded memory, looking for the
// names in pdfNames after undoing #xx escapes (/J#61vaScript is
// /JavaScript to a viewer). Object streams, where a PDF 1.5 file keeps most
// of its objects compressed, are inflated and read too; one compressed in
// any way but FlateDecode alone is refused, since legitimate writers use
// nothing else and anything else could hide names from this scan. The
// bodies of other compressed streams (scanned images, mostly) are skipped:
// their bytes are not PDF syntax, and reading them would refuse files for
// chance byte patterns. pdfinfo and pdfdetach then check what a parser sees.
func scanPDF(ctx context.Context, r io.Reader) error {
	s := &pdfScanner{ctx: ctx}
	s.reset()
	return s.scan(bufio.NewReaderSize(r, 64<<10), true)
}

// pdfScanner reads a PDF's tokens, keeping just enough of the current
// object's dictionary to tell what its stream holds.
type pdfScanner struct {
	ctx      context.Context
	inflated int64 // object-stream bytes inflated so far
	scanned  int64 // bytes read, for checking ctx now and then
	dict     streamDict
	nameBuf  [maxName]byte
	wordBuf  [16]byte
}

// streamDict is what has been seen of the current object's dictionary.
// Only its top level counts: a nested dictionary's /Type is not the
// stream's.
type streamDict struct {
	depth     int    // dictionary nesting
	key       string // the top-level key whose value comes next, if one of interest
	inFilters bool   // inside the array value of /Filter
	filters   int    // filter names given
	flate     bool   // the first filter is FlateDecode
	oddFilter bool   // /Filter given some other way, such as a reference
	parms     bool   // /DecodeParms given
	objStm    bool   // /Type /ObjStm
	n, first  bool   // /N and /First given, which only object streams have
	length    int64  // /Length when given directly; -1 otherwise
	lenTail   int    // words seen after /Length's number, to spot "n 0 R"
}

func (s *pdfScanner) reset() { s.dict = streamDict{length: -1} }

// scan reads br to its end. top is false inside an object stream, where
// objects have no streams and the dictionary state does not apply.
func (s *pdfScanner) scan(br *bufio.Reader, top bool) error {
	d := &s.dict
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if s.scanned++; s.scanned&(1<<20-1) == 0 {
			if err := s.ctx.Err(); err != nil {
				return err
			}
		}
		switch {
		case c == '/':
			name, err := s.readName(br)
			if err != nil {
				return err
			}
			if code, ok := pdfNames[string(name)]; ok {
				return pdfRefusal(code)
			}
			if top {
				s.onName(string(name))
			}
		case !top:
		case c == '<':
			if b, err := br.Peek(1); err == nil && b[0] == '<' {
				br.Discard(1)
				if d.key != "" {
					d.oddFilter = d.oddFilter || d.key == "Filter"
					d.key = ""
				}
				d.depth++
			}
		case c == '>':
			if b, err := br.Peek(1); err == nil && b[0] == '>' {
				br.Discard(1)
				d.depth = max(d.depth-1, 0)
			}
		case c == '[':
			d.inFilters = d.key == "Filter"
			d.key = ""
		case c == ']':
			d.inFilters = false
		case regular(c):
			if err := s.onWord(br, s.readWord(br, c)); err != nil {
				return err
			}
		}
	}
}

func (s *pdfScanner) onName(name string) {
	d := &s.dict
	d.lenTail = 0
	switch {
	case d.inFilters:
		d.filters++
		if d.filters == 1 {
			d.flate = name == "FlateDecode"
		}
	case d.key == "Type":
		d.objStm, d.key = name == "ObjStm", ""
	case d.key == "Filter":
		d.filters, d.flate, d.key = 1, name == "FlateDecode", ""
	case d.depth == 1 && (name == "Type" || name == "Filter" || name == "Length"):
		d.key = name
	case d.depth == 1 && name == "N":
		d.n, d.key = true, ""
	case d.depth == 1 && name == "First":
		d.first, d.key = true, ""
	case d.depth == 1 && name == "DecodeParms":
		d.parms, d.key = true, ""
	default:
		d.key = ""
	}
}

func (s *pdfScanner) onWord(br *bufio.Reader, word []byte) error {
	d := &s.dict
	key := d.key
	d.key = ""
	w := string(word)
	switch {
	case key == "Filter":
		d.oddFilter = true
	case key == "Length":
		if n, err := strconv.ParseInt(w, 10, 64); err == nil && n >= 0 {
			d.length, d.lenTail = n, 1
		}
	case d.lenTail == 1 && isDigits(word):
		d.lenTail = 2
	case d.lenTail == 2 && w == "R":
		d.length, d.lenTail = -1, 0 // an indirect length: unknown here
	case w == "obj" || w == "endobj":
		s.reset()
	case w == "stream":
		return s.onStream(br)
	default:
		d.lenTail = 0
	}
	return nil
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// onStream deals with a stream's data, which starts after an end of line:
// CRLF or LF, or CR alone in the wild.
func (s *pdfScanner) onStream(br *bufio.Reader) error {
	if c, err := br.ReadByte(); err == nil {
		if c == '\r' {
			if b, err := br.Peek(1); err == nil && b[0] == '\n' {
				br.Discard(1)
			}
		} else if c != '\n' {
			br.UnreadByte()
		}
	}
	d := s.dict
	s.reset()
	// poppler takes a stream for an object stream because the
	// cross-reference says so, whatever its /Type; /N and /First it needs.
	d.objStm = d.objStm || (d.n && d.first)
	switch {
	case d.objStm && d.filters == 0 && !d.oddFilter:
		return nil // plain objects: scanned as they come
	case d.objStm && d.filters == 1 && d.flate && !d.parms && !d.oddFilter:
		return s.scanObjStm(br, d.length)
	case d.objStm:
		return refusef(CodeTooComplex, "The PDF stores its objects in a form the registry cannot check. Print it to a new PDF, or scan the paper order, and upload that.")
	case d.filters > 0:
		return skipPast(br, []byte("endstream"))
	}
	return nil
}

// scanObjStm inflates an object stream straight from the file and scans
// the objects in it. With its length known, it reads exactly that; without,
// zlib reads the file one byte at a time through br, so it stops at the
// compressed data's own end, and the scan carries on from there.
func (s *pdfScanner) scanObjStm(br *bufio.Reader, length int64) error {
	var src io.Reader = br
	if length >= 0 {
		src = io.LimitReader(br, length)
	}
	zr, err := zlib.NewReader(src)
	if err != nil {
		return pdfDamaged()
	}
	budget := min(int64(maxObjStm), maxInflated-s.inflated)
	lr := &io.LimitedReader{R: zr, N: budget + 1}
	if err := s.scan(bufio.NewReader(lr), false); err != nil {
		var r *Refusal
		if errors.As(err, &r) || s.ctx.Err() != nil {
			return err
		}
		return pdfDamaged()
	}
	s.inflated += budget + 1 - lr.N
	if lr.N == 0 {
		return refusef(CodeTooComplex, "The PDF's compressed objects expand to an unreasonable size. Print it to a new PDF, or scan the paper order, and upload that.")
	}
	if length >= 0 {
		// Bytes after the zlib data but within /Length are still the
		// stream's: step over them.
		if _, err := io.Copy(io.Discard, src); err != nil {
			return err
		}
	}
	return nil
}

func pdfDamaged() error {
	return refusef(CodeCorrupt, "The PDF is damaged and cannot be read. Upload it again, or print it to a new PDF.")
}

// readName reads a name after its slash, decoding #xx escapes. It returns
// a view of s.nameBuf: names longer than PDF allows are cut short, and
// then match nothing in pdfNames, which are all short.
func (s *pdfScanner) readName(br *bufio.Reader) ([]byte, error) {
	n := 0
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		if !regular(c) {
			br.UnreadByte()
			break
		}
		if c == '#' {
			if b, err := br.Peek(2); err == nil && hexDigit(b[0]) && hexDigit(b[1]) {
				c = unhex(b[0])<<4 | unhex(b[1])
				br.Discard(2)
			}
		}
		if n < len(s.nameBuf) {
			s.nameBuf[n] = c
			n++
		}
	}
	return s.nameBuf[:n], nil
}

// readWord reads a run of regular characters (a keyword or number) whose
// first byte is c; only its start is kept, which is all onWord needs.
func (s *pdfScanner) readWord(br *bufio.Reader, c byte) []byte {
	n := 0
	for {
		if n < len(s.wordBuf) {
			s.wordBuf[n] = c
			n++
		}
		b, err := br.ReadByte()
		if err != nil {
			break
		}
		if !regular(b) {
			br.UnreadByte()
			break
		}
		c = b
	}
	return s.wordBuf[:n]
}

// skipPast discards input up to and including pat, or to the end.
func skipPast(br *bufio.Reader, pat []byte) error {
	for {
		buf, err := br.Peek(br.Size())
		if i := bytes.Index(buf, pat); i >= 0 {
			_, err := br.Discard(i + len(pat))
			return err
		}
		if err != nil {
			br.Discard(len(buf))
			if err == io.EOF {
				return nil
			}
			return err
		}
		br.Discard(len(buf) - len(pat) + 1)
	}
}

// regular reports whether c is a PDF regular character: not white space
// and not a delimiter.
func regular(c byte) bool {
	switch c {
	case 0, '\t', '\n', '\f', '\r', ' ', '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return false
	}
	return true
}

func hexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
