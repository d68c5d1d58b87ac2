package scan

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/png"
	"strings"
	"testing"
)

// rotatedPDF is one 300 × 400 pt page turned a quarter, so it shows
// 400 wide and 300 tall.
func rotatedPDF() []byte {
	d := &pdfDoc{}
	d.add("<< /Type /Catalog /Pages 2 0 R >>")
	d.add("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	d.add("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 400] /Rotate 90 >>")
	return d.bytes("")
}

func TestRenderPage(t *testing.T) {
	pdfTwo := pagesPDF([]float64{0.2, 0.8}, "").bytes("")
	tiffTwo := buildTIFF(binary.LittleEndian, grayImage(200, 100, 50), grayImage(200, 100, 200))
	for _, tt := range []struct {
		name      string
		data      []byte
		mediaType string
		pages     int
		w, h      int // of the source, for the expected height
		pdf       bool
	}{
		{name: "PDF", data: pdfTwo, mediaType: PDF, pages: 2, w: 300, h: 400, pdf: true},
		{name: "TIFF", data: tiffTwo, mediaType: TIFF, pages: 2, w: 200, h: 100},
		{name: "JPEG", data: encodeJPEG(t, grayImage(200, 100, 90)), mediaType: JPEG, pages: 1, w: 200, h: 100},
		{name: "PNG", data: encodePNG(t, grayImage(200, 100, 90)), mediaType: PNG, pages: 1, w: 200, h: 100},
		{name: "PNGInterlaced1Bit", data: handPNG(200, 100, 1, true, checker, 0), mediaType: PNG, pages: 1, w: 200, h: 100},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tools := FindTools()
			if tt.pdf {
				tools = needPDF(t)
			}
			path := MustWriteFile(t, "upload", tt.data)
			render := func(page, width int) (image.Image, error) {
				var b bytes.Buffer
				if err := tools.RenderPage(context.Background(), path, tt.mediaType, page, width, &b); err != nil {
					return nil, err
				}
				img, err := png.Decode(&b)
				if err != nil {
					t.Fatalf("RenderPage(%d, %d) wrote no PNG: %v", page, width, err)
				}
				return img, nil
			}

			for _, width := range []struct{ ask, want int }{{100, 100}, {0, 1275}, {5, 16}, {99999, 2550}} {
				img, err := render(1, width.ask)
				if err != nil {
					t.Fatalf("RenderPage(1, %d): %v", width.ask, err)
				}
				b := img.Bounds()
				wantH := (width.want*tt.h + tt.w/2) / tt.w
				if b.Dx() != width.want || b.Dy() < wantH-1 || b.Dy() > wantH+1 {
					t.Errorf("RenderPage(1, %d) is %d × %d, want %d × %d", width.ask, b.Dx(), b.Dy(), width.want, wantH)
				}
			}

			if tt.pages == 2 {
				one, err := render(1, 50)
				if err != nil {
					t.Fatal(err)
				}
				two, err := render(2, 50)
				if err != nil {
					t.Fatalf("RenderPage(2): %v", err)
				}
				if m1, m2 := mean(one), mean(two); m2-m1 < 50 {
					t.Errorf("page 1 has mean gray %.0f, page 2 %.0f: want page 2 much lighter", m1, m2)
				}
			}

			_, err := render(tt.pages+1, 50)
			if got, want := refusalCode(err), CodeNoSuchPage; got != want {
				t.Errorf("RenderPage(%d) = %v (code %q), want %q", tt.pages+1, err, got, want)
			}
			_, err = render(0, 50)
			if got, want := refusalCode(err), CodeNoSuchPage; got != want {
				t.Errorf("RenderPage(0) = %v (code %q), want %q", err, got, want)
			}
		})
	}
}

func TestRenderPageRotatedPDF(t *testing.T) {
	tools := needPDF(t)
	path := MustWriteFile(t, "order.pdf", rotatedPDF())
	var b bytes.Buffer
	if err := tools.RenderPage(context.Background(), path, PDF, 1, 400, &b); err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(&b)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 400 || cfg.Height != 300 {
		t.Errorf("RenderPage is %d × %d, want 400 × 300", cfg.Width, cfg.Height)
	}
}

// A page far taller than wide is drawn narrower rather than taller than
// maxHeight.
func TestRenderPageTallImage(t *testing.T) {
	path := MustWriteFile(t, "strip.png", encodePNG(t, grayImage(10, 20000, 0)))
	var b bytes.Buffer
	if err := FindTools().RenderPage(context.Background(), path, PNG, 1, 1000, &b); err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(&b)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Height != maxHeight || cfg.Width != 5 {
		t.Errorf("RenderPage is %d × %d, want 5 × %d", cfg.Width, cfg.Height, maxHeight)
	}
}

func TestRenderPageRefuses(t *testing.T) {
	ctx := context.Background()
	t.Run("PDFWithoutTools", func(t *testing.T) {
		path := MustWriteFile(t, "order.pdf", pagesPDF([]float64{1}, "").bytes(""))
		if err := (Tools{}).RenderPage(ctx, path, PDF, 1, 100, &bytes.Buffer{}); !errors.Is(err, ErrUnavailable) {
			t.Errorf("RenderPage = %v, want ErrUnavailable", err)
		}
	})
	t.Run("UnknownType", func(t *testing.T) {
		path := MustWriteFile(t, "x.gif", []byte("GIF89a"))
		err := Tools{}.RenderPage(ctx, path, "image/gif", 1, 100, &bytes.Buffer{})
		if got, want := refusalCode(err), CodeUnsupportedType; got != want {
			t.Errorf("RenderPage = %v (code %q), want %q", err, got, want)
		}
	})
	t.Run("HugeTIFF", func(t *testing.T) {
		// Rendering holds pages to the default limits even for a file
		// that never went through Inspect.
		path := MustWriteFile(t, "huge.tif", hugeTIFF(100000, 100000))
		err := Tools{}.RenderPage(ctx, path, TIFF, 1, 100, &bytes.Buffer{})
		if got, want := refusalCode(err), CodeTooManyPixels; got != want {
			t.Errorf("RenderPage = %v (code %q), want %q", err, got, want)
		}
	})
	t.Run("CorruptJPEG", func(t *testing.T) {
		jpg := encodeJPEG(t, grayImage(64, 48, 1))
		path := MustWriteFile(t, "x.jpg", jpg[:len(jpg)/2])
		err := Tools{}.RenderPage(ctx, path, JPEG, 1, 100, &bytes.Buffer{})
		if got, want := refusalCode(err), CodeCorrupt; got != want || strings.Contains(err.Error(), "EOF") {
			t.Errorf("RenderPage = %v (code %q), want %q", err, got, want)
		}
	})
}
