package scan

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

func TestOCRPage(t *testing.T) {
	tools := needOCR(t)
	word := wordImage(t, "FIREARM")
	b := word.Bounds()
	blank := grayImage(b.Dx(), b.Dy(), 255)
	for _, tt := range []struct {
		name      string
		data      []byte
		mediaType string
		page      int
		pdf       bool
	}{
		{name: "PNG", data: encodePNG(t, word), mediaType: PNG, page: 1},
		{name: "JPEG", data: encodeJPEG(t, word), mediaType: JPEG, page: 1},
		{name: "TIFFPage2", data: buildTIFF(binary.BigEndian, blank, word), mediaType: TIFF, page: 2},
		{name: "PDF", data: imagePDF(encodeJPEG(t, word), b.Dx(), b.Dy()), mediaType: PDF, page: 1, pdf: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.pdf {
				needPDF(t)
			}
			t.Parallel()
			path := MustWriteFile(t, "upload", tt.data)
			text, err := tools.OCRPage(context.Background(), path, tt.mediaType, tt.page)
			if err != nil {
				t.Fatalf("OCRPage: %v", err)
			}
			if !strings.Contains(strings.ToUpper(text), "FIREARM") {
				t.Errorf("OCRPage = %q, want FIREARM in it", text)
			}
		})
	}
}

func TestOCRPageRefuses(t *testing.T) {
	ctx := context.Background()
	t.Run("WithoutTesseract", func(t *testing.T) {
		path := MustWriteFile(t, "x.png", encodePNG(t, grayImage(8, 8, 0)))
		if _, err := (Tools{}).OCRPage(ctx, path, PNG, 1); !errors.Is(err, ErrUnavailable) {
			t.Errorf("OCRPage = %v, want ErrUnavailable", err)
		}
	})
	t.Run("NoSuchPage", func(t *testing.T) {
		tools := needOCR(t)
		path := MustWriteFile(t, "x.tif", buildTIFF(binary.LittleEndian, grayImage(8, 8, 0)))
		_, err := tools.OCRPage(ctx, path, TIFF, 2)
		if got, want := refusalCode(err), CodeNoSuchPage; got != want {
			t.Errorf("OCRPage = %v (code %q), want %q", err, got, want)
		}
	})
	t.Run("PDFNoSuchPage", func(t *testing.T) {
		tools := needOCR(t)
		needPDF(t)
		path := MustWriteFile(t, "x.pdf", pagesPDF([]float64{1}, "").bytes(""))
		_, err := tools.OCRPage(ctx, path, PDF, 2)
		if got, want := refusalCode(err), CodeNoSuchPage; got != want {
			t.Errorf("OCRPage = %v (code %q), want %q", err, got, want)
		}
	})
}
