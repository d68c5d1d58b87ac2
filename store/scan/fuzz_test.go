package scan

import (
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"
)

// FuzzInspect feeds Inspect arbitrary files, seeded with every kind the
// tests build. Inspect must not panic, and must either accept a file as one
// of the four types or say why not.
func FuzzInspect(f *testing.F) {
	jpg := encodeJPEG(f, grayImage(16, 8, 90))
	for _, seed := range [][]byte{
		jpg,
		withJPEGComment(jpg, "%PDF-1.4"),
		encodePNG(f, grayImage(16, 8, 90)),
		encodePNG(f, image.NewPaletted(image.Rect(0, 0, 9, 9), color.Palette{color.Black, color.White})),
		handPNG(11, 7, 1, true, checker, 0),
		handPNG(11, 7, 8, false, checker, 0),
		buildTIFF(binary.LittleEndian, grayImage(4, 4, 0), grayImage(5, 3, 9)),
		buildTIFF(binary.BigEndian, grayImage(6, 2, 7)),
		hugeTIFF(100000, 100000),
		pagesPDF([]float64{0.2, 0.8}, "").bytes(""),
		pagesPDF([]float64{1}, "/OpenAction 3 0 R", "<< /S /J#61vaScript /J#53 (x) >>").bytes(""),
		objStmPDF("/FlateDecode", zlibBytes),
		[]byte("<svg/>"),
		{},
	} {
		f.Add(seed, "", "")
	}
	f.Add(jpg, "image/png", "order.pdf")

	// Small limits keep each run cheap; poppler runs when it is here.
	tools := FindTools()
	lim := Limits{MaxSide: 2000, MaxPixels: 1 << 20, MaxPages: 20}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, declared, name string) {
		path := filepath.Join(dir, "upload")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		info, err := tools.Inspect(context.Background(), path, declared, name, lim)
		if err != nil {
			if info != (Info{}) {
				t.Errorf("Inspect = %+v with error %v", info, err)
			}
			return
		}
		if !accepted(info.MediaType) || info.Pages < 1 {
			t.Errorf("Inspect accepted %+v", info)
		}
	})
}
