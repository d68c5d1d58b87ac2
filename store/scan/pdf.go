package scan

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// inspectPDF refuses a PDF for what its bytes name, then asks poppler, which
// reads compressed objects the byte scan cannot, for its page count,
// encryption, JavaScript and attached files.
func (t Tools) inspectPDF(ctx context.Context, f *os.File, size int64, path string, lim Limits) (Info, error) {
	if err := scanPDF(ctx, io.NewSectionReader(f, 0, size)); err != nil {
		return Info{}, err
	}
	if t.Pdfinfo == "" {
		return Info{}, unavailable("pdfinfo", "check PDF files")
	}
	if t.Pdfdetach == "" {
		return Info{}, unavailable("pdfdetach", "check PDF files")
	}
	pi, err := t.pdfinfo(ctx, path, 0)
	if err != nil {
		return Info{}, err
	}
	switch {
	case pi.encrypted:
		return Info{}, pdfRefusal(CodePDFEncrypted)
	case pi.javaScript:
		return Info{}, pdfRefusal(CodePDFJavaScript)
	case pi.xfa:
		return Info{}, pdfRefusal(CodePDFActiveContent)
	case pi.pages > lim.MaxPages:
		return Info{}, refusef(CodeTooManyPages, "The PDF has %d pages, more than the %d the registry accepts. Split the order into smaller files.", pi.pages, lim.MaxPages)
	}
	if err := t.pdfdetach(ctx, path); err != nil {
		return Info{}, err
	}
	return Info{MediaType: PDF, Pages: pi.pages}, nil
}

// pdfInfo is what pdfinfo says of a file, and of one page when asked.
type pdfInfo struct {
	pages                      int
	encrypted, javaScript, xfa bool
	pageWidth, pageHeight      float64 // points, as stored, before rotation
	rotate                     int     // degrees
}

// displaySize is the page's size in points as a viewer shows it.
func (pi pdfInfo) displaySize() (w, h float64) {
	if pi.rotate%180 != 0 {
		return pi.pageHeight, pi.pageWidth
	}
	return pi.pageWidth, pi.pageHeight
}

// pdfinfo runs pdfinfo on the file, asking about page as well when it is
// not 0. A file pdfinfo cannot open is refused.
func (t Tools) pdfinfo(ctx context.Context, path string, page int) (pdfInfo, error) {
	var args []string
	if page > 0 {
		p := strconv.Itoa(page)
		args = append(args, "-f", p, "-l", p)
	}
	res, err := run(ctx, t.toolTimeout(), t.Pdfinfo, append(args, argPath(path))...)
	if err != nil {
		return pdfInfo{}, toolFailure(err)
	}
	if page > 0 && res.err != nil && bytes.Contains(res.stderr, []byte("Wrong page range")) {
		// pdfinfo fails for a page past the end; ask again for the count
		// the clerk is told.
		pi, err := t.pdfinfo(ctx, path, 0)
		if err != nil {
			return pdfInfo{}, err
		}
		return pdfInfo{}, noSuchPage(page, pi.pages)
	}
	return parsePdfinfo(res)
}

var (
	pageSizeLine = regexp.MustCompile(`^Page\s+\d+\s+size:\s+([0-9.]+)\s+x\s+([0-9.]+)\s+pts`)
	pageRotLine  = regexp.MustCompile(`^Page\s+\d+\s+rot:\s+(-?\d+)`)
)

// parsePdfinfo reads pdfinfo's answer. pdfinfo fails on a file it cannot
// open, and for want of a password on an encrypted one, which it says on
// standard error.
func parsePdfinfo(res runResult) (pdfInfo, error) {
	if res.err != nil {
		if bytes.Contains(bytes.ToLower(res.stderr), []byte("password")) {
			return pdfInfo{}, pdfRefusal(CodePDFEncrypted)
		}
		return pdfInfo{}, pdfDamaged()
	}
	var pi pdfInfo
	sc := bufio.NewScanner(bytes.NewReader(res.stdout))
	for sc.Scan() {
		line := sc.Text()
		key, val, _ := strings.Cut(line, ":")
		val = strings.TrimSpace(val)
		switch key {
		case "Pages":
			pi.pages, _ = strconv.Atoi(val)
		case "Encrypted":
			pi.encrypted = strings.HasPrefix(val, "yes")
		case "JavaScript":
			pi.javaScript = strings.HasPrefix(val, "yes")
		case "Form":
			pi.xfa = strings.HasPrefix(val, "XFA")
		}
		if m := pageSizeLine.FindStringSubmatch(line); m != nil {
			pi.pageWidth, _ = strconv.ParseFloat(m[1], 64)
			pi.pageHeight, _ = strconv.ParseFloat(m[2], 64)
		} else if m := pageRotLine.FindStringSubmatch(line); m != nil {
			r, _ := strconv.Atoi(m[1])
			pi.rotate = ((r % 360) + 360) % 360
		}
	}
	if pi.pages < 1 {
		return pdfInfo{}, pdfDamaged()
	}
	return pi, nil
}

var detachCount = regexp.MustCompile(`^(\d+) embedded files?`)

// pdfdetach refuses a file with attachments, which pdfdetach finds in the
// document's name tree and in file attachment annotations, compressed or not.
func (t Tools) pdfdetach(ctx context.Context, path string) error {
	res, err := run(ctx, t.toolTimeout(), t.Pdfdetach, "-list", argPath(path))
	if err != nil {
		return toolFailure(err)
	}
	return parsePdfdetach(res)
}

func parsePdfdetach(res runResult) error {
	if res.err != nil {
		if bytes.Contains(bytes.ToLower(res.stderr), []byte("password")) {
			return pdfRefusal(CodePDFEncrypted)
		}
		return pdfDamaged()
	}
	first, _, _ := bytes.Cut(res.stdout, []byte("\n"))
	m := detachCount.FindSubmatch(bytes.TrimSpace(first))
	if m == nil {
		return pdfDamaged()
	}
	if n, _ := strconv.Atoi(string(m[1])); n > 0 {
		return pdfRefusal(CodePDFEmbeddedFile)
	}
	return nil
}

// toolFailure turns a run that timed out into a refusal: a file poppler
// cannot get through in 30 s is not one to keep. Other errors pass through.
func toolFailure(err error) error {
	if errors.Is(err, errTimedOut) {
		return refusef(CodeTooComplex, "The file took too long to check and may be damaged or unusually complex. Print it to a new PDF, or scan the paper order, and upload that.")
	}
	return err
}

// argPath keeps a path from reading as an option to a program.
func argPath(path string) string {
	if strings.HasPrefix(path, "-") {
		return "./" + path
	}
	return path
}
