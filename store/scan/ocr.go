package scan

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/image/draw"
)

const (
	ocrDPI = 300 // what tesseract reads best
	// maxOCRPixels bounds the page image handed to tesseract; a letter
	// page at 300 dpi is 8.4 million. A PDF page larger than this is drawn
	// at a lower resolution instead.
	maxOCRPixels = 40_000_000
)

// OCRPage returns the text tesseract reads on page (1-based). It renders the page
// at 300 dpi (PDF: pdftoppm -r 300 -gray; images: native resolution, a TIFF page
// extracted/converted to PNG or fed directly) to a temp file, and runs tesseract
// with bounded time (ctx plus a per-page timeout, default 90 s) and bounded
// memory (address-space limit ~1.5 GB via `sh -c 'ulimit -v ...; exec tesseract ...'`
// or prlimit), with OMP_THREAD_LIMIT=1 so one OCR never takes both cores.
// Returns ErrUnavailable (wrapped) when tesseract is absent.
//
// Every image page, JPEG and PNG included, is decoded in Go and handed to
// tesseract as a fresh 8-bit gray PNG, so tesseract's image libraries never
// parse the client's bytes. A PDF page too large to hold at 300 dpi is
// drawn at less. Refusals are as for RenderPage.
func (t Tools) OCRPage(ctx context.Context, path, mediaType string, page int) (string, error) {
	if t.Tesseract == "" {
		return "", unavailable("tesseract", "read text from scans")
	}
	if page < 1 {
		return "", refusef(CodeNoSuchPage, "There is no page %d: pages are numbered from 1.", page)
	}
	dir, err := os.MkdirTemp("", "scan-ocr-")
	if err != nil {
		return "", fmt.Errorf("scan: ocr: %w", err)
	}
	defer os.RemoveAll(dir)
	img := filepath.Join(dir, "page.png")

	dpi := 0
	if mediaType == PDF {
		if dpi, err = t.pdfPageImage(ctx, path, page, img); err != nil {
			return "", err
		}
	} else if err := grayPNG(ctx, path, mediaType, page, img); err != nil {
		return "", err
	}

	args := []string{img, "stdout", "-l", "eng", "--psm", "3"}
	if dpi > 0 {
		args = append(args, "--dpi", strconv.Itoa(dpi))
	}
	res, err := run(ctx, t.ocrTimeout(), t.Tesseract, args...)
	if err != nil {
		return "", fmt.Errorf("scan: ocr page %d: %w", page, err)
	}
	if res.err != nil {
		return "", fmt.Errorf("scan: ocr page %d: tesseract: %v: %s", page, res.err, firstLine(res.stderr))
	}
	// tesseract ends each page with a form feed.
	return strings.TrimSpace(strings.ReplaceAll(string(res.stdout), "\f", "")), nil
}

// pdfPageImage draws a PDF page in gray to out at 300 dpi, or less for a
// page so large that would pass maxOCRPixels, and returns the resolution.
func (t Tools) pdfPageImage(ctx context.Context, path string, page int, out string) (int, error) {
	if t.Pdfinfo == "" {
		return 0, unavailable("pdfinfo", "read text from PDF files")
	}
	if t.Pdftoppm == "" {
		return 0, unavailable("pdftoppm", "read text from PDF files")
	}
	pi, err := t.pdfinfo(ctx, path, page)
	if err != nil {
		return 0, err
	}
	if page > pi.pages {
		return 0, noSuchPage(page, pi.pages)
	}
	w, h := pi.pageWidth/72, pi.pageHeight/72 // inches
	if w <= 0 || h <= 0 {
		return 0, pdfDamaged()
	}
	dpi := min(ocrDPI, int(math.Sqrt(maxOCRPixels/(w*h))), int(float64(defaultLimits.MaxSide)/max(w, h)))
	if dpi < 1 {
		return 0, refusef(CodeTooManyPixels, "Page %d of the PDF is too large to read.", page)
	}
	p := strconv.Itoa(page)
	// pdftoppm adds ".png" to the root it is given.
	root := strings.TrimSuffix(out, ".png")
	res, err := run(ctx, t.toolTimeout(), t.Pdftoppm, "-f", p, "-l", p, "-r", strconv.Itoa(dpi),
		"-gray", "-png", "-singlefile", argPath(path), root)
	if err != nil {
		return 0, toolFailure(err)
	}
	if res.err != nil {
		return 0, pdfDamaged()
	}
	return dpi, nil
}

// grayPNG decodes an image page and writes it to out as 8-bit gray PNG at
// its own resolution.
func grayPNG(ctx context.Context, path, mediaType string, page int, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("scan: ocr: %w", err)
	}
	err = withPage(ctx, path, mediaType, page, func(img image.Image) error {
		g, ok := img.(*image.Gray)
		if !ok {
			b := img.Bounds()
			g = image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
			draw.Draw(g, g.Bounds(), image.White, image.Point{}, draw.Src)
			draw.Draw(g, g.Bounds(), img, b.Min, draw.Over)
		}
		bw := bufio.NewWriter(f)
		enc := png.Encoder{CompressionLevel: png.BestSpeed} // read once, then deleted
		if err := enc.Encode(bw, g); err != nil {
			return fmt.Errorf("scan: ocr: %w", err)
		}
		return bw.Flush()
	})
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("scan: ocr: %w", cerr)
	}
	return err
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}
