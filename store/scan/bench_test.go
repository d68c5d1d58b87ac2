package scan

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// BenchmarkScanPDF measures the byte scan over a PDF whose bulk is page
// description (read byte by byte) and one whose bulk is a scanned image
// (skipped).
func BenchmarkScanPDF(b *testing.B) {
	text := []byte(strings.Repeat("0.5 g 10 10 200 300 re f /F1 12 Tf (PROTECTIVE ORDER) Tj\n", 1<<18))
	image := bytes.Repeat([]byte{0xA5, 0x5A, 0x00, 0xFF}, 4<<20)
	for _, bb := range []struct {
		name string
		pdf  []byte
	}{
		{"Content", []byte(stream("", text))},
		{"Image", []byte(stream("/Subtype /Image /Filter /DCTDecode", image))},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(bb.pdf)))
			for b.Loop() {
				if err := scanPDF(context.Background(), bytes.NewReader(bb.pdf)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
