package scan

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"

	"github.com/gabriel-vasile/mimetype"
)

const (
	// sniffLen is what mimetype reads by default to decide a type.
	sniffLen = 3072
	// polyglotLen is how far Acrobat looks for "%PDF-" and how far the
	// markup check looks: a browser sniffing content reads about as much.
	polyglotLen = 1024
)

// Inspect decides the file's type from its bytes and confirms it by decoding.
// declared is the type the client claimed (multipart part Content-Type; "" or
// application/octet-stream mean no claim) and name its file name (its extension
// is a claim too). Returns *Refusal for a file that is refused, an error
// wrapping ErrUnavailable when a tool is missing, other errors for I/O failures.
func (t Tools) Inspect(ctx context.Context, path, declared, name string, lim Limits) (Info, error) {
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	lim = lim.withDefaults()
	f, err := os.Open(path)
	if err != nil {
		return Info{}, fmt.Errorf("scan: inspect: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Info{}, fmt.Errorf("scan: inspect: %w", err)
	}
	if !st.Mode().IsRegular() {
		return Info{}, fmt.Errorf("scan: inspect %s: not a regular file", path)
	}
	size := st.Size()
	if size == 0 {
		return Info{}, refusef(CodeEmptyFile, "The file is empty. Upload the scanned order again.")
	}
	head := make([]byte, sniffLen)
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return Info{}, fmt.Errorf("scan: inspect: %w", err)
	}
	head = head[:n]

	mt := baseType(mimetype.Detect(head).String())
	if !accepted(mt) {
		return Info{}, refusef(CodeUnsupportedType,
			"The file is %s. The registry accepts scanned orders as PDF, TIFF, JPEG or PNG files.", describe(mt))
	}
	if err := checkPolyglot(head, mt); err != nil {
		return Info{}, err
	}
	if err := checkClaims(mt, declared, name); err != nil {
		return Info{}, err
	}

	switch mt {
	case JPEG:
		return inspectJPEG(ctx, f, size, lim)
	case PNG:
		return inspectPNG(ctx, f, size, lim)
	case TIFF:
		return inspectTIFF(ctx, f, size, lim)
	default:
		return t.inspectPDF(ctx, f, size, path, lim)
	}
}

func accepted(mt string) bool {
	return mt == PDF || mt == TIFF || mt == JPEG || mt == PNG
}

// baseType drops parameters ("; charset=utf-8") and case from a media type.
func baseType(s string) string {
	s, _, _ = strings.Cut(s, ";")
	return strings.ToLower(strings.TrimSpace(s))
}

// kinds names media types for clerks. Types missing here are named by their
// media type, which comes from mimetype's table and never from the file.
var kinds = map[string]string{
	PDF:                        "a PDF document",
	TIFF:                       "a TIFF image",
	JPEG:                       "a JPEG image",
	PNG:                        "a PNG image",
	"text/html":                "an HTML page",
	"image/svg+xml":            "an SVG image",
	"text/xml":                 "an XML document",
	"application/xml":          "an XML document",
	"text/plain":               "a text file",
	"image/gif":                "a GIF image",
	"image/bmp":                "a BMP image",
	"image/webp":               "a WebP image",
	"image/heic":               "a HEIC photo",
	"image/heif":               "a HEIF photo",
	"image/vnd.mozilla.apng":   "an animated PNG image",
	"application/zip":          "a ZIP archive",
	"application/msword":       "a Word document",
	"application/octet-stream": "not a kind of file the registry recognises",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   "a Word document",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         "an Excel workbook",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": "a PowerPoint presentation",
}

func describe(mt string) string {
	if k, ok := kinds[mt]; ok {
		return k
	}
	return "a file of type " + mt
}

// markup is what a browser sniffing content takes for HTML or SVG. The
// registry serves files back to browsers, so a file that also reads as a
// page with script in it is refused outright. Only tags of four letters or
// more are listed: shorter ones turn up by chance in compressed data.
var markup = [][]byte{
	[]byte("<html"), []byte("<script"), []byte("<svg"), []byte("<!doctype html"),
	[]byte("<body"), []byte("<iframe"), []byte("<head"), []byte("<object"),
	[]byte("<embed"), []byte("<meta"), []byte("<style"), []byte("<title"),
}

// checkPolyglot refuses a file whose first kilobyte makes it also another
// kind of file: Acrobat opens anything with "%PDF-" in its first kilobyte as
// a PDF, and browsers may run a file that looks like HTML.
func checkPolyglot(head []byte, mt string) error {
	if len(head) > polyglotLen {
		head = head[:polyglotLen]
	}
	pdfMark := []byte("%PDF-")
	if mt == PDF && !bytes.HasPrefix(head, pdfMark) {
		// mimetype, like Acrobat, calls this a PDF; what is it otherwise?
		other := baseType(mimetype.Detect(bytes.ReplaceAll(head, pdfMark, []byte("%PDx-"))).String())
		if accepted(other) {
			return refusef(CodePolyglot,
				"The file is %s but also carries the start of a PDF, so it would open as a different document elsewhere. Scan or export the order again.", describe(other))
		}
		return refusef(CodePolyglot,
			"The file has other data before the start of its PDF, so it would open differently elsewhere. Export the order to PDF again.")
	}
	if mt != PDF && bytes.Contains(head, pdfMark) {
		return refusef(CodePolyglot,
			"The file is %s but also carries the start of a PDF, so it would open as a different document elsewhere. Scan or export the order again.", describe(mt))
	}
	lower := bytes.ToLower(head)
	for _, m := range markup {
		if bytes.Contains(lower, m) {
			return refusef(CodePolyglot,
				"The file is %s but also carries web-page markup, which a browser could run. Scan or export the order again.", describe(mt))
		}
	}
	return nil
}

// extensions are the file name endings taken as a claim of type.
var extensions = map[string]string{
	".pdf": PDF, ".tif": TIFF, ".tiff": TIFF, ".jpg": JPEG, ".jpeg": JPEG, ".png": PNG,
}

// aliases maps the names clients use for the accepted types onto them.
var aliases = map[string]string{
	"application/x-pdf": PDF, "image/tif": TIFF, "image/x-tiff": TIFF, "image/x-tif": TIFF,
	"image/jpg": JPEG, "image/pjpeg": JPEG, "image/x-png": PNG,
}

// noClaim are declared types that claim nothing: what clients send when
// they do not know.
var noClaim = map[string]bool{
	"": true, "application/octet-stream": true, "binary/octet-stream": true,
	"application/binary": true, "application/unknown": true, "application/x-download": true,
	"application/force-download": true,
}

// checkClaims refuses a file whose declared type or file extension says it
// is something its bytes are not. Such a mismatch is how a file gets past a
// filter that trusts the label, and what a clerk can fix by choosing the
// right file.
func checkClaims(mt, declared, name string) error {
	if claimed, ok := extensions[strings.ToLower(filepath.Ext(name))]; ok && claimed != mt {
		return refusef(CodeTypeMismatch, "The file is named %s but its bytes are %s. Check that the right file was chosen.",
			strings.ToLower(filepath.Ext(name)), describe(mt))
	}
	d, _, err := mime.ParseMediaType(declared)
	if err != nil {
		// An unreadable label claims nothing we can hold the file to; the
		// bytes decide the type anyway.
		return nil
	}
	d = strings.ToLower(d)
	if a, ok := aliases[d]; ok {
		d = a
	}
	if noClaim[d] || d == mt {
		return nil
	}
	label := "as another kind of file"
	if accepted(d) {
		label = "as " + describe(d)
	}
	return refusef(CodeTypeMismatch, "The upload is labelled %s but its bytes are %s. Check that the right file was chosen.",
		label, describe(mt))
}
