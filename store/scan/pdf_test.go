package scan

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// objStmPDF is a PDF 1.5 file whose document JavaScript (a name tree entry
// and its action) lives in a compressed object stream, found through a
// cross-reference stream. filter is the object stream's /Filter and encode
// what it does to the objects.
func objStmPDF(filter string, encode func([]byte) []byte) []byte {
	obj4 := "<< /JavaScript << /Names [(x) 5 0 R] >> >>"
	obj5 := `<< /S /JavaScript /JS (app.alert\(1\)) >>`
	header := fmt.Sprintf("4 0 5 %d ", len(obj4)+1)
	data := encode([]byte(header + obj4 + " " + obj5))

	var b bytes.Buffer
	b.WriteString("%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
	offsets := map[int]int{}
	obj := func(n int, body string) {
		offsets[n] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", n, body)
	}
	obj(1, "<< /Type /Catalog /Pages 2 0 R /Names 4 0 R >>")
	obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 400] >>")
	obj(6, fmt.Sprintf("<< /Type /ObjStm /N 2 /First %d /Filter %s /Length %d >>\nstream\n%s\nendstream",
		len(header), filter, len(data), data))

	// The cross-reference stream: type, field 2 (offset, or object stream
	// number), field 3 (generation, or index in the object stream).
	row := func(typ byte, f2 uint32, f3 uint16) []byte {
		r := binary.BigEndian.AppendUint32([]byte{typ}, f2)
		return binary.BigEndian.AppendUint16(r, f3)
	}
	xref := b.Len()
	var rows []byte
	rows = append(rows, row(0, 0, 65535)...)
	for n := 1; n <= 3; n++ {
		rows = append(rows, row(1, uint32(offsets[n]), 0)...)
	}
	rows = append(rows, row(2, 6, 0)...)
	rows = append(rows, row(2, 6, 1)...)
	rows = append(rows, row(1, uint32(offsets[6]), 0)...)
	rows = append(rows, row(1, uint32(xref), 0)...)
	fmt.Fprintf(&b, "7 0 obj\n<< /Type /XRef /Size 8 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n", len(rows))
	b.Write(rows)
	fmt.Fprintf(&b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", xref)
	return b.Bytes()
}

func hexZlib(b []byte) []byte { return []byte(hex.EncodeToString(zlibBytes(b)) + ">") }

// stream is a PDF stream object with the dictionary entries dict.
func stream(dict string, data []byte) string {
	return fmt.Sprintf("1 0 obj << %s /Length %d >>\nstream\n%s\nendstream\nendobj\n", dict, len(data), data)
}

func TestScanPDF(t *testing.T) {
	// Compressed-looking bytes that happen to hold "/JS ": in a filtered
	// stream they are data, not a name.
	noise := make([]byte, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(r.UintN(256))
	}
	copy(noise[100:], "/JS ")
	objs := `<< /S /JavaScript /JS (x) >>`
	bomb := zlibBytes(make([]byte, maxObjStm+1))

	for _, tt := range []struct {
		name, pdf string
		want      string // refusal code, "" for none
	}{
		{"Plain", "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>", ""},
		{"JavaScript", "<< /S /JavaScript /JS (x) >>", CodePDFJavaScript},
		{"JSHexEscaped", "<< /S /J#61vaScript /J#53 (x) >>", CodePDFJavaScript},
		{"JSAtEnd", "<< /OpenAction << /JS", CodePDFJavaScript},
		{"LongerNameIsFine", "<< /JSON 1 /JavaScripts 2 /Encrypted true >>", ""},
		{"EmbeddedFile", "<< /Type /EmbeddedFile >>", CodePDFEmbeddedFile},
		{"FileAttachment", "<< /Subtype /FileAttachment >>", CodePDFEmbeddedFile},
		{"Launch", "<< /S /Launch >>", CodePDFActiveContent},
		{"XFA", "<< /AcroForm << /XFA 5 0 R >> >>", CodePDFActiveContent},
		{"SubmitForm", "<< /S /SubmitForm >>", CodePDFActiveContent},
		{"Encrypt", "trailer << /Root 1 0 R /Encrypt 2 0 R >>", CodePDFEncrypted},
		{"FilteredStreamSkipped", stream("/Subtype /Image /Filter /FlateDecode", noise), ""},
		{"FilterArraySkipped", stream("/Filter [/DCTDecode]", noise), ""},
		{"ScanResumesAfterStream", stream("/Filter /DCTDecode", noise) + "2 0 obj << /S /Launch >> endobj", CodePDFActiveContent},
		{"UnfilteredStreamRead", stream("/Type /ObjStm /N 1 /First 4", []byte("5 0 "+objs)), CodePDFJavaScript},
		{"ObjStmInflated", stream("/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", zlibBytes([]byte("5 0 "+objs))), CodePDFJavaScript},
		{"ObjStmInflatedThenLater", stream("/Type /ObjStm /Filter /FlateDecode", zlibBytes([]byte("5 0 << /A 1 >>"))) +
			"2 0 obj << /S /RichMedia >> endobj", CodePDFActiveContent},
		{"ObjStmWithoutType", stream("/N 1 /First 4 /Filter /FlateDecode", zlibBytes([]byte("5 0 "+objs))), CodePDFJavaScript},
		{"ObjStmIndirectLength", strings.Replace(stream("/Type /ObjStm /Filter /FlateDecode", zlibBytes([]byte("5 0 "+objs))),
			"/Length", "/Length 9 0 R /Junk", 1), CodePDFJavaScript},
		{"ObjStmPaddedToLength", strings.Replace(stream("/Type /ObjStm /Filter /FlateDecode", append(zlibBytes([]byte("5 0 << >>")), "/JS "...)),
			"endstream", "endstream 2 0 obj << /S /Launch >> endobj", 1), CodePDFActiveContent},
		{"ObjStmFilterChain", stream("/Type /ObjStm /Filter [/ASCIIHexDecode /FlateDecode]", hexZlib([]byte("5 0 "+objs))), CodeTooComplex},
		{"ObjStmIndirectFilter", stream("/Type /ObjStm /Filter 9 0 R", zlibBytes([]byte("5 0 "+objs))), CodeTooComplex},
		{"ObjStmPredictor", stream("/Type /ObjStm /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 4 >>", noise), CodeTooComplex},
		{"NestedTypeIgnored", stream("/Filter /FlateDecode /DecodeParms << /Type /ObjStm >>", noise), ""},
		{"ObjStmDamaged", stream("/Type /ObjStm /Filter /FlateDecode", noise), CodeCorrupt},
		{"ObjStmBomb", stream("/Type /ObjStm /Filter /FlateDecode", bomb), CodeTooComplex},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := scanPDF(context.Background(), strings.NewReader(tt.pdf))
			if got := refusalCode(err); got != tt.want || (err != nil && got == "") {
				t.Errorf("scanPDF = %v (code %q), want code %q", err, got, tt.want)
			}
		})
	}
}

// An object stream compressed with FlateDecode alone is read by the byte
// scan, so no tool is needed to find the JavaScript in it.
func TestInspectPDFObjectStream(t *testing.T) {
	path := MustWriteFile(t, "order.pdf", objStmPDF("/FlateDecode", zlibBytes))
	_, err := Tools{}.Inspect(context.Background(), path, PDF, "order.pdf", Limits{})
	if got, want := refusalCode(err), CodePDFJavaScript; got != want {
		t.Errorf("Inspect = %v (code %q), want %q", err, got, want)
	}
}

// What the byte scan cannot see, poppler can: JavaScript behind a filter
// chain, attachments, a password.
func TestInspectPDFPoppler(t *testing.T) {
	tools := needPDF(t)
	ctx := context.Background()

	t.Run("ValidObjectStream", func(t *testing.T) {
		// The file is well formed: pdfinfo reads it and finds the script.
		path := MustWriteFile(t, "order.pdf", objStmPDF("/FlateDecode", zlibBytes))
		pi, err := tools.pdfinfo(ctx, path, 0)
		if err != nil || !pi.javaScript || pi.pages != 1 {
			t.Errorf("pdfinfo = %+v, %v; want 1 page with JavaScript", pi, err)
		}
	})
	t.Run("JavaScriptBehindFilterChain", func(t *testing.T) {
		// The byte scan refuses such a file outright; pdfinfo would have
		// found the script all the same.
		path := MustWriteFile(t, "order.pdf", objStmPDF("[/ASCIIHexDecode /FlateDecode]", hexZlib))
		pi, err := tools.pdfinfo(ctx, path, 0)
		if err != nil || !pi.javaScript {
			t.Errorf("pdfinfo = %+v, %v; want JavaScript", pi, err)
		}
		_, err = tools.Inspect(ctx, path, PDF, "order.pdf", Limits{})
		if got, want := refusalCode(err), CodeTooComplex; got != want {
			t.Errorf("Inspect = %v (code %q), want %q", err, got, want)
		}
	})
	t.Run("EmbeddedFile", func(t *testing.T) {
		path := MustWriteFile(t, "order.pdf", embeddedPDF("/EmbeddedFiles"))
		if got, want := refusalCode(tools.pdfdetach(ctx, path)), CodePDFEmbeddedFile; got != want {
			t.Errorf("pdfdetach: code %q, want %q", got, want)
		}
	})
	t.Run("Password", func(t *testing.T) {
		path := MustWriteFile(t, "order.pdf", encryptedPDF())
		_, err := tools.pdfinfo(ctx, path, 0)
		if got, want := refusalCode(err), CodePDFEncrypted; got != want {
			t.Errorf("pdfinfo = %v (code %q), want %q", err, got, want)
		}
	})
	t.Run("Plain", func(t *testing.T) {
		path := MustWriteFile(t, "order.pdf", pagesPDF([]float64{1}, "").bytes(""))
		if err := tools.pdfdetach(ctx, path); err != nil {
			t.Errorf("pdfdetach = %v", err)
		}
	})
}

func TestParsePdfinfo(t *testing.T) {
	exit := errors.New("exit status 1")
	for _, tt := range []struct {
		name   string
		res    runResult
		want   pdfInfo
		refuse string
	}{
		{name: "Plain", res: runResult{stdout: []byte("Form:            none\nJavaScript:      no\nPages:           2\nEncrypted:       no\nPage size:       612 x 792 pts (letter)\n")},
			want: pdfInfo{pages: 2}},
		{name: "OnePage", res: runResult{stdout: []byte("Pages:           9\nPage    3 size:  595.276 x 841.89 pts (A4)\nPage    3 rot:   270\n")},
			want: pdfInfo{pages: 9, pageWidth: 595.276, pageHeight: 841.89, rotate: 270}},
		{name: "Flags", res: runResult{stdout: []byte("Form:            XFA\nJavaScript:      yes\nPages:           1\nEncrypted:       yes (print:yes copy:no change:no addNotes:no algorithm:AES-256)\n")},
			want: pdfInfo{pages: 1, encrypted: true, javaScript: true, xfa: true}},
		{name: "Password", res: runResult{err: exit, stderr: []byte("Command Line Error: Incorrect password\n")}, refuse: CodePDFEncrypted},
		{name: "Broken", res: runResult{err: exit, stderr: []byte("Syntax Error: Couldn't find trailer dictionary\n")}, refuse: CodeCorrupt},
		{name: "NoPages", res: runResult{stdout: []byte("Pages:           0\n")}, refuse: CodeCorrupt},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePdfinfo(tt.res)
			if code := refusalCode(err); code != tt.refuse {
				t.Fatalf("parsePdfinfo: %v (code %q), want code %q", err, code, tt.refuse)
			}
			if got != tt.want {
				t.Errorf("parsePdfinfo = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParsePdfdetach(t *testing.T) {
	for _, tt := range []struct {
		out, want string
	}{
		{"0 embedded files\n", ""},
		{"1 embedded files\n1: note.txt\n", CodePDFEmbeddedFile},
		{"12 embedded files\n", CodePDFEmbeddedFile},
		{"", CodeCorrupt},
	} {
		if got := refusalCode(parsePdfdetach(runResult{stdout: []byte(tt.out)})); got != tt.want {
			t.Errorf("parsePdfdetach(%q): code %q, want %q", tt.out, got, tt.want)
		}
	}
}
