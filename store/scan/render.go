package scan

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"strconv"

	"golang.org/x/image/draw"
)

const (
	defaultWidth = 1275 // a letter page at 150 dpi
	minWidth     = 16
	maxWidth     = 2550 // a letter page at 300 dpi
	// maxHeight bounds the output for pages far taller than wide; such a
	// page is drawn maxHeight tall and as wide as keeps its aspect.
	maxHeight = 4 * maxWidth
)

// RenderPage writes page (1-based) of the file at path as PNG, scaled to width
// pixels wide (keeping aspect; width 0 means 1275 px, i.e. a letter page at 150 dpi;
// clamp width to 16..2550). Refusal{Code:"no_such_page"} for a page out of range.
//
// Images are decoded in Go and held to the default Limits; PDF pages are
// drawn by pdftoppm, whose absence is an error wrapping ErrUnavailable.
func (t Tools) RenderPage(ctx context.Context, path, mediaType string, page, width int, w io.Writer) error {
	switch {
	case width == 0:
		width = defaultWidth
	case width < minWidth:
		width = minWidth
	case width > maxWidth:
		width = maxWidth
	}
	if page < 1 {
		return refusef(CodeNoSuchPage, "There is no page %d: pages are numbered from 1.", page)
	}
	if mediaType == PDF {
		return t.renderPDF(ctx, path, page, width, w)
	}
	// Scale while the decoded page is held, encode after: w may be a
	// slow client, who must not hold up everyone else's decodes.
	var small image.Image
	err := withPage(ctx, path, mediaType, page, func(img image.Image) error {
		b := img.Bounds()
		wd, ht := fitWidth(width, float64(b.Dx()), float64(b.Dy()))
		small = scale(img, wd, ht)
		return nil
	})
	if err != nil {
		return err
	}
	return png.Encode(w, small)
}

// fitWidth is the size of a page of w × h drawn width wide, made narrower
// when its height would pass maxHeight.
func fitWidth(width int, w, h float64) (int, int) {
	ht := int(math.Round(float64(width) * h / w))
	if ht > maxHeight {
		ht = maxHeight
		width = max(1, int(math.Round(maxHeight*w/h)))
	}
	return width, max(ht, 1)
}

// scale draws img at w × h over white, so a transparent scan shows as
// paper. A gray image stays gray, which keeps the PNG a third the size.
func scale(img image.Image, w, h int) image.Image {
	r := image.Rect(0, 0, w, h)
	var dst draw.Image
	switch img.ColorModel() {
	case color.GrayModel, color.Gray16Model:
		dst = image.NewGray(r)
	default:
		dst = image.NewRGBA(r)
	}
	draw.Draw(dst, r, image.White, image.Point{}, draw.Src)
	// BiLinear as a kernel averages every source pixel under a
	// destination pixel, so text stays legible when a 300 dpi scan is
	// shrunk several times; ApproxBiLinear would drop pixels.
	draw.BiLinear.Scale(dst, r, img, img.Bounds(), draw.Over, nil)
	return dst
}

// renderPDF has pdftoppm draw the page at exactly the size wanted.
func (t Tools) renderPDF(ctx context.Context, path string, page, width int, w io.Writer) error {
	if t.Pdfinfo == "" {
		return unavailable("pdfinfo", "render PDF pages")
	}
	if t.Pdftoppm == "" {
		return unavailable("pdftoppm", "render PDF pages")
	}
	pi, err := t.pdfinfo(ctx, path, page)
	if err != nil {
		return err
	}
	if page > pi.pages {
		return noSuchPage(page, pi.pages)
	}
	dw, dh := pi.displaySize()
	if dw <= 0 || dh <= 0 {
		return pdfDamaged()
	}
	wd, ht := fitWidth(width, dw, dh)
	// pdftoppm scales the page as stored and then rotates it, so for a
	// page turned a quarter the sizes it is given swap.
	sx, sy := wd, ht
	if pi.rotate%180 != 0 {
		sx, sy = ht, wd
	}
	p := strconv.Itoa(page)
	res, err := run(ctx, t.toolTimeout(), t.Pdftoppm, "-f", p, "-l", p, "-png",
		"-scale-to-x", strconv.Itoa(sx), "-scale-to-y", strconv.Itoa(sy), argPath(path))
	if err != nil {
		return toolFailure(err)
	}
	if res.err != nil || len(res.stdout) == 0 {
		return pdfDamaged()
	}
	_, err = w.Write(res.stdout)
	return err
}
