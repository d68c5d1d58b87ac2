// Package scan decides what an uploaded scanned court order is, refuses
// anything dangerous, renders its pages and reads their words by OCR.
//
// Every function works on a path on disk: the caller streams the upload to a
// temporary file first, so that no upload is ever held whole in memory and
// the external programs (poppler's pdfinfo, pdfdetach and pdftoppm, and
// tesseract) can read it. A file's type is decided from its bytes, never from
// what the client claims, and is confirmed by decoding it. Inspect answers a
// *Refusal, whose Code is stable and whose Message a court clerk can act on,
// for every file that is not accepted.
//
// Images are decoded by Go's own memory-safe decoders, one full decode at a
// time process-wide; external programs run with a timeout and an
// address-space limit.
package scan

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// Accepted media types.
const (
	PDF  = "application/pdf"
	TIFF = "image/tiff"
	JPEG = "image/jpeg"
	PNG  = "image/png"
)

// Refusal codes. They are part of the API: clients switch on them.
const (
	CodeUnsupportedType     = "unsupported_type"
	CodeUnsupportedEncoding = "unsupported_encoding"
	CodeTypeMismatch        = "type_mismatch"
	CodePolyglot            = "polyglot"
	CodeEmptyFile           = "empty_file"
	CodeCorrupt             = "corrupt"
	CodeTooComplex          = "too_complex"
	CodeTooManyPixels       = "too_many_pixels"
	CodeTooManyPages        = "too_many_pages"
	CodeNoSuchPage          = "no_such_page"
	CodePDFJavaScript       = "pdf_javascript"
	CodePDFEmbeddedFile     = "pdf_embedded_file"
	CodePDFEncrypted        = "pdf_encrypted"
	CodePDFActiveContent    = "pdf_active_content"
)

// Limits bound what Inspect accepts. Zero fields take defaults.
type Limits struct {
	MaxSide   int   // pixels per side of any image page; default 20000
	MaxPixels int64 // width*height of any image page; default 60_000_000
	MaxPages  int   // default 500
}

// defaultLimits are the limits a zero Limits stands for. RenderPage and
// OCRPage hold image pages to them too, because they may be handed a file
// that never went through Inspect.
var defaultLimits = Limits{MaxSide: 20000, MaxPixels: 60_000_000, MaxPages: 500}

func (l Limits) withDefaults() Limits {
	if l.MaxSide <= 0 {
		l.MaxSide = defaultLimits.MaxSide
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = defaultLimits.MaxPixels
	}
	if l.MaxPages <= 0 {
		l.MaxPages = defaultLimits.MaxPages
	}
	return l
}

// checkSize refuses an image page too big to decode. It runs on dimensions
// read from headers, before any pixel buffer is allocated.
func (l Limits) checkSize(page, w, h int) error {
	if w <= 0 || h <= 0 {
		return refusef(CodeCorrupt, "The image has no pixels; the file is damaged.")
	}
	if w > l.MaxSide || h > l.MaxSide || int64(w)*int64(h) > l.MaxPixels {
		what := "The image"
		if page > 1 {
			what = fmt.Sprintf("Page %d", page)
		}
		return refusef(CodeTooManyPixels,
			"%s is %d × %d pixels, more than the registry accepts (at most %d pixels a side and %s in all). Scan it again at 300 dpi or less.",
			what, w, h, l.MaxSide, millions(l.MaxPixels))
	}
	return nil
}

// millions writes a pixel count as a clerk reads it: "60 million".
func millions(n int64) string {
	if n >= 1_000_000 && n%100_000 == 0 {
		return strconv.FormatFloat(float64(n)/1e6, 'f', -1, 64) + " million"
	}
	return strconv.FormatInt(n, 10)
}

// Refusal is why a file is not accepted: Code is a stable snake_case word for
// clients ("unsupported_type", "type_mismatch", "polyglot", "empty_file",
// "corrupt", "too_many_pixels", "too_many_pages", "pdf_javascript",
// "pdf_embedded_file", "pdf_encrypted", "pdf_active_content", ...; see the
// Code constants), Message a sentence a court clerk can act on. Messages
// never quote the file's bytes.
type Refusal struct{ Code, Message string }

// Error returns the message, so a Refusal logged or shown as a plain error
// still reads well.
func (r *Refusal) Error() string { return r.Message }

func refusef(code, format string, args ...any) *Refusal {
	return &Refusal{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrUnavailable (wrapped) is returned when a needed external program is absent,
// e.g. PDF checking without pdfinfo, OCR without tesseract.
var ErrUnavailable = errors.New("scan: tool unavailable")

// Info is what Inspect learned of an accepted file.
type Info struct {
	MediaType     string
	Pages         int
	Width, Height int // first page in pixels; 0 for PDF
}

// decodeSem lets one full image decode run at a time in the whole process.
// A decode of a page at the limits holds hundreds of megabytes; uploads
// arrive concurrently, and without this a burst of them would multiply that.
var decodeSem = make(chan struct{}, 1)

// serialDecode runs fn while holding decodeSem, giving up if ctx ends first.
func serialDecode(ctx context.Context, fn func() error) error {
	select {
	case decodeSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-decodeSem }()
	return fn()
}
