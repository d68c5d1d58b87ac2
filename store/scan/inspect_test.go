package scan

import (
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// needPDF returns the tools, skipping the test when poppler is missing on a
// developer's machine; in CI a missing tool fails the test instead.
func needPDF(tb testing.TB) Tools {
	tb.Helper()
	tools := FindTools()
	if !tools.PDF() {
		if os.Getenv("CI") != "" {
			tb.Fatal("poppler-utils (pdfinfo, pdftoppm, pdfdetach) not found on PATH")
		}
		tb.Skip("poppler-utils not installed")
	}
	return tools
}

// needOCR is needPDF for tesseract.
func needOCR(tb testing.TB) Tools {
	tb.Helper()
	tools := FindTools()
	if !tools.OCR() {
		if os.Getenv("CI") != "" {
			tb.Fatal("tesseract not found on PATH")
		}
		tb.Skip("tesseract not installed")
	}
	return tools
}

// refusalCode is the code of a *Refusal, or "" for any other error.
func refusalCode(err error) string {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Code
	}
	return ""
}

func TestInspectAccepts(t *testing.T) {
	paletted := image.NewPaletted(image.Rect(0, 0, 40, 30), color.Palette{color.Black, color.White})
	gray16 := image.NewGray16(image.Rect(0, 0, 20, 10))
	for _, tt := range []struct {
		name     string
		file     string
		data     []byte
		declared string
		pdf      bool // needs poppler
		want     Info
	}{
		{name: "PDF", file: "order.pdf", data: pagesPDF([]float64{0.2, 0.8}, "").bytes(""), declared: PDF, pdf: true,
			want: Info{MediaType: PDF, Pages: 2}},
		{name: "TIFF", file: "order.tif", data: buildTIFF(binary.LittleEndian, grayImage(30, 20, 99)), declared: TIFF,
			want: Info{MediaType: TIFF, Pages: 1, Width: 30, Height: 20}},
		{name: "TIFFBigEndian3Pages", file: "order.TIFF",
			data: buildTIFF(binary.BigEndian, grayImage(30, 20, 0), grayImage(31, 21, 128), grayImage(32, 22, 255)),
			want: Info{MediaType: TIFF, Pages: 3, Width: 30, Height: 20}},
		{name: "JPEG", file: "order.jpeg", data: encodeJPEG(t, grayImage(64, 48, 200)), declared: "image/jpg",
			want: Info{MediaType: JPEG, Pages: 1, Width: 64, Height: 48}},
		{name: "PNG", file: "order.png", data: encodePNG(t, grayImage(50, 40, 10)), declared: "image/png; name=x",
			want: Info{MediaType: PNG, Pages: 1, Width: 50, Height: 40}},
		{name: "PNGPaletted1Bit", file: "scan", data: encodePNG(t, paletted), declared: "application/octet-stream",
			want: Info{MediaType: PNG, Pages: 1, Width: 40, Height: 30}},
		{name: "PNGGray16", data: encodePNG(t, gray16),
			want: Info{MediaType: PNG, Pages: 1, Width: 20, Height: 10}},
		{name: "PNGGray1Bit", data: handPNG(37, 29, 1, false, checker, 0),
			want: Info{MediaType: PNG, Pages: 1, Width: 37, Height: 29}},
		{name: "PNGInterlaced", data: handPNG(37, 29, 8, true, checker, 0),
			want: Info{MediaType: PNG, Pages: 1, Width: 37, Height: 29}},
		{name: "PNGInterlaced1BitTiny", data: handPNG(3, 2, 1, true, checker, 0),
			want: Info{MediaType: PNG, Pages: 1, Width: 3, Height: 2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tools := FindTools()
			if tt.pdf {
				tools = needPDF(t)
			}
			path := MustWriteFile(t, "upload", tt.data)
			got, err := tools.Inspect(context.Background(), path, tt.declared, tt.file, Limits{})
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if got != tt.want {
				t.Errorf("Inspect = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestInspectRefuses(t *testing.T) {
	jpg := encodeJPEG(t, grayImage(64, 48, 200))
	pngData := encodePNG(t, grayImage(50, 40, 10))
	badCRC := append([]byte{}, pngData...)
	badCRC[len(badCRC)-20] ^= 0xFF // inside the IDAT data
	hugePNG := append(append(append([]byte{}, pngSignature...), pngIHDR(100000, 100000, 8, 0, 0)...), pngChunk("IEND", nil)...)
	svg := `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`
	html := "<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"

	for _, tt := range []struct {
		name     string
		data     []byte
		declared string
		file     string
		lim      Limits
		pdf      bool
		want     string
		says     string // the message mentions this
	}{
		{name: "Empty", data: nil, want: CodeEmptyFile},
		{name: "HTML", data: []byte(html), want: CodeUnsupportedType, says: "an HTML page"},
		{name: "SVG", data: []byte(svg), file: "order.png", want: CodeUnsupportedType, says: "an SVG image"},
		{name: "Text", data: []byte("PROTECTIVE ORDER\n"), want: CodeUnsupportedType, says: "a text file"},
		{name: "GIF", data: []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), want: CodeUnsupportedType, says: "a GIF image"},
		{name: "ZIP", data: []byte("PK\x03\x04" + strings.Repeat("\x00", 26)), want: CodeUnsupportedType, says: "a ZIP archive"},
		{name: "JPEGNamedPNG", data: jpg, file: "order.png", want: CodeTypeMismatch,
			says: "The file is named .png but its bytes are a JPEG image."},
		{name: "PNGDeclaredJPEG", data: pngData, declared: "image/jpeg", want: CodeTypeMismatch,
			says: "labelled as a JPEG image but its bytes are a PNG image"},
		{name: "PNGDeclaredText", data: pngData, declared: "text/plain", want: CodeTypeMismatch,
			says: "as another kind of file"},
		{name: "JPEGWithPDFHeader", data: withJPEGComment(jpg, "%PDF-1.4 1 0 obj"), file: "order.jpg", want: CodePolyglot,
			says: "a JPEG image but also carries the start of a PDF"},
		{name: "JPEGWithScriptTag", data: withJPEGComment(jpg, "<SCRIPT>alert(1)</SCRIPT>"), want: CodePolyglot},
		{name: "PDFWithHTML", data: append([]byte("%PDF-1.4\n%<html><body>\n"), pagesPDF([]float64{1}, "").bytes("")...), want: CodePolyglot},
		{name: "TruncatedJPEG", data: jpg[:len(jpg)/2], want: CodeCorrupt},
		{name: "PNGBadCRC", data: badCRC, want: CodeCorrupt},
		{name: "PNGShortIDAT", data: handPNG(37, 29, 8, false, checker, 1), want: CodeCorrupt},
		{name: "PNGTruncated", data: pngData[:len(pngData)-12], want: CodeCorrupt},
		{name: "PNGNoIDAT", data: hugePNG, lim: Limits{MaxSide: 1 << 30, MaxPixels: 1 << 62}, want: CodeCorrupt},
		{name: "PNG100000x100000", data: hugePNG, want: CodeTooManyPixels,
			says: "The image is 100000 × 100000 pixels, more than the registry accepts (at most 20000 pixels a side and 60 million in all)."},
		{name: "PNGOverMaxSide", data: pngData, lim: Limits{MaxSide: 49}, want: CodeTooManyPixels},
		{name: "JPEGOverMaxPixels", data: jpg, lim: Limits{MaxPixels: 64*48 - 1}, want: CodeTooManyPixels, says: "64 × 48"},
		{name: "TIFF100000x100000", data: hugeTIFF(100000, 100000), want: CodeTooManyPixels, says: "100000 × 100000"},
		{name: "TIFFPage2TooBig", data: buildTIFF(binary.LittleEndian, grayImage(10, 10, 0), grayImage(30, 10, 0)),
			lim: Limits{MaxSide: 20}, want: CodeTooManyPixels, says: "Page 2"},
		{name: "TIFFTooManyPages", data: buildTIFF(binary.LittleEndian, grayImage(4, 4, 0), grayImage(4, 4, 1), grayImage(4, 4, 2)),
			lim: Limits{MaxPages: 2}, want: CodeTooManyPages},
		{name: "TIFFLoop", data: tiffLoop(), want: CodeCorrupt},
		{name: "TIFFTruncated", data: buildTIFF(binary.BigEndian, grayImage(30, 20, 1))[:500], want: CodeCorrupt},
		{name: "PDFJavaScript", data: pagesPDF([]float64{1}, "/OpenAction 3 0 R", "<< /S /JavaScript /JS (app.alert\\(1\\)) >>").bytes(""),
			want: CodePDFJavaScript},
		{name: "PDFJavaScriptHexEscaped", data: pagesPDF([]float64{1}, "/OpenAction 3 0 R", "<< /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>").bytes(""),
			want: CodePDFJavaScript},
		{name: "PDFEmbeddedFiles", data: embeddedPDF("/EmbeddedFiles"), want: CodePDFEmbeddedFile},
		{name: "PDFLaunch", data: pagesPDF([]float64{1}, "/OpenAction 3 0 R", "<< /S /Launch /F (cmd.exe) >>").bytes(""),
			want: CodePDFActiveContent},
		{name: "PDFEncrypted", data: encryptedPDF(), want: CodePDFEncrypted},
		{name: "PDFTooManyPages", data: pagesPDF([]float64{0, 0.5, 1}, "").bytes(""), lim: Limits{MaxPages: 2}, pdf: true,
			want: CodeTooManyPages, says: "3 pages"},
		{name: "PDFGarbage", data: []byte("%PDF-1.7\nthis is not a PDF at all\n"), pdf: true, want: CodeCorrupt},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tools := FindTools()
			if tt.pdf {
				tools = needPDF(t)
			}
			path := MustWriteFile(t, "upload", tt.data)
			info, err := tools.Inspect(context.Background(), path, tt.declared, tt.file, tt.lim)
			if got := refusalCode(err); got != tt.want {
				t.Fatalf("Inspect = %+v, %v (code %q), want code %q", info, err, got, tt.want)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("message %q does not say %q", err, tt.says)
			}
			if strings.Contains(err.Error(), "alert") || strings.Contains(err.Error(), "%PDF") {
				t.Errorf("message %q echoes the file", err)
			}
		})
	}
}

// tiffLoop is a two-page TIFF whose second IFD points back at the first.
func tiffLoop() []byte {
	b := buildTIFF(binary.LittleEndian, grayImage(4, 4, 0), grayImage(4, 4, 1))
	first := binary.LittleEndian.Uint32(b[4:])
	binary.LittleEndian.PutUint32(b[len(b)-4:], first)
	return b
}

// embeddedPDF is a one-page PDF with an attached text file, the name tree
// key written as given.
func embeddedPDF(key string) []byte {
	d := &pdfDoc{}
	d.add("<< /Type /Catalog /Pages 2 0 R /Names << " + key + " << /Names [(note.txt) 3 0 R] >> >> >>")
	d.add("<< /Type /Pages /Kids [5 0 R] /Count 1 >>")
	d.add("<< /Type /Filespec /F (note.txt) /EF << /F 4 0 R >> >>")
	d.addStream("/Type /EmbeddedFile", []byte("hello"))
	d.add("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 400] >>")
	return d.bytes("")
}

// The 100,000 × 100,000 TIFF header must be refused from its header alone:
// fast, and without allocating anything like its 10 GB of pixels.
func TestInspectHugeTIFFIsCheap(t *testing.T) {
	path := MustWriteFile(t, "huge.tif", hugeTIFF(100000, 100000))
	tools := Tools{}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := tools.Inspect(context.Background(), path, TIFF, "huge.tif", Limits{})
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if got, want := refusalCode(err), CodeTooManyPixels; got != want {
		t.Fatalf("Inspect: %v (code %q), want %q", err, got, want)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 10<<20 {
		t.Errorf("Inspect allocated %d bytes", alloc)
	}
	if elapsed > time.Second {
		t.Errorf("Inspect took %v", elapsed)
	}
}

// Without poppler a PDF cannot be checked: that is the operator's problem,
// not the clerk's, so it is ErrUnavailable and not a refusal.
func TestInspectPDFWithoutTools(t *testing.T) {
	path := MustWriteFile(t, "order.pdf", pagesPDF([]float64{1}, "").bytes(""))
	_, err := Tools{}.Inspect(context.Background(), path, PDF, "order.pdf", Limits{})
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("Inspect = %v, want ErrUnavailable", err)
	}
}

func TestInspectMissingFile(t *testing.T) {
	_, err := Tools{}.Inspect(context.Background(), t.TempDir()+"/none", "", "", Limits{})
	if err == nil || refusalCode(err) != "" {
		t.Errorf("Inspect = %v, want an I/O error", err)
	}
}
