package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/api"
	"github.com/ccpor/ccpor/fixtures"
	"github.com/ccpor/ccpor/store"
	"github.com/getkin/kin-openapi/openapi3filter"
)

func init() {
	// The document routes answer with the file's own type; the OpenAPI
	// checker reads those bodies as opaque files.
	for _, t := range []string{"application/pdf", "image/tiff", "image/jpeg", "image/png"} {
		openapi3filter.RegisterBodyDecoder(t, openapi3filter.FileBodyDecoder)
	}
}

// grayPage is a small page image: a white sheet with a dark band whose
// place depends on n, so that two pages differ.
func grayPage(w, h, n int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0xf0
	}
	for y := (n * 10) % h; y < min(h, (n*10)%h+8); y++ {
		for x := 0; x < w; x++ {
			img.SetGray(x, y, color.Gray{Y: 0x20})
		}
	}
	return img
}

func pngBytes(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// jpegOfSize returns a valid JPEG of exactly size bytes: an encoded page
// with comment segments after the start marker to make up the size.
// Different tags give different bytes.
func jpegOfSize(tb testing.TB, size int, tag string) []byte {
	tb.Helper()
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, grayPage(64, 64, len(tag)), nil); err != nil {
		tb.Fatal(err)
	}
	img := enc.Bytes()
	pad := size - len(img)
	if pad < 4+len(tag) {
		tb.Fatalf("jpeg of %d bytes: the image alone is %d", size, len(img))
	}
	out := append([]byte{}, img[:2]...)
	for pad > 0 {
		// A COM segment is FF FE, a two-byte length counting itself,
		// then up to 65533 bytes. A remainder under 4 bytes cannot be a
		// segment of its own, so the last-but-one leaves room.
		n := min(pad, 65535+2)
		if rest := pad - n; rest > 0 && rest < 4 {
			n -= 4
		}
		body := bytes.Repeat([]byte{'.'}, n-4)
		copy(body, tag)
		out = append(out, 0xff, 0xfe, byte((n-2)>>8), byte(n-2))
		out = append(out, body...)
		pad -= n
	}
	out = append(out, img[2:]...)
	if len(out) != size {
		tb.Fatalf("jpegOfSize made %d bytes, want %d", len(out), size)
	}
	return out
}

// multipartBody is a document upload form.
func multipartBody(tb testing.TB, filename, contentType string, data []byte, fields map[string]string) ([]byte, string) {
	tb.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			tb.Fatal(err)
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, filename))
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	part, err := w.CreatePart(h)
	if err != nil {
		tb.Fatal(err)
	}
	part.Write(data)
	w.Close()
	return b.Bytes(), w.FormDataContentType()
}

// sendAs sends a request with any body as role and checks the answer
// against the OpenAPI document.
func (ts *testServer) sendAs(role ccpor.Role, method, path, contentType string, body []byte) (*http.Response, []byte) {
	ts.t.Helper()
	header := map[string]string{}
	if contentType != "" {
		header["Content-Type"] = contentType
	}
	return ts.doWith(role, method, path, body, header)
}

// upload sends a document for the order as role.
func (ts *testServer) upload(role ccpor.Role, orderID, filename, contentType string, data []byte, fields map[string]string) (*http.Response, []byte) {
	ts.t.Helper()
	body, ct := multipartBody(ts.t, filename, contentType, data, fields)
	return ts.sendAs(role, "POST", "/api/v1/orders/"+orderID+"/documents", ct, body)
}

type uploaded struct {
	Document struct {
		ccpor.Document
		Content  string `json:"content"`
		PageURL  string `json:"page_image"`
		Withheld string `json:"withheld"`
	} `json:"document"`
	Existing bool `json:"existing"`
}

// mustCreateOrder stores the valid test order of Alameda County.
func (ts *testServer) mustCreateOrder() string {
	ts.t.Helper()
	resp, body := ts.do(ccpor.RoleClerk, "POST", "/api/v1/orders", []byte(validOrder))
	if resp.StatusCode != http.StatusCreated {
		ts.t.Fatalf("create order: %d %s", resp.StatusCode, body)
	}
	var o ccpor.Order
	json.Unmarshal(body, &o)
	return o.ID
}

func TestDocumentTypes(t *testing.T) {
	ts := mustServer(t)
	id := ts.mustCreateOrder()
	var pdf, tiff bytes.Buffer
	pages := []*image.Gray{grayPage(170, 220, 1), grayPage(170, 220, 9)}
	if err := fixtures.WriteScanPDF(&pdf, pages, 20); err != nil {
		t.Fatal(err)
	}
	if err := fixtures.WriteScanTIFF(&tiff, pages, 20); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, filename, declared string
		data                     []byte
		mediaType                string
		pages                    int
	}{
		{"PDF", "order.pdf", "application/pdf", pdf.Bytes(), "application/pdf", 2},
		{"TIFF", "order.tif", "image/tiff", tiff.Bytes(), "image/tiff", 2},
		{"JPEG", "order.jpg", "image/jpeg", jpegOfSize(t, 5000, "jpeg"), "image/jpeg", 1},
		{"PNG", "order.png", "", pngBytes(t, grayPage(200, 260, 3)), "image/png", 1},
		// No claim at all: the bytes decide.
		{"Unnamed", "scan", "application/octet-stream", pngBytes(t, grayPage(90, 90, 4)), "image/png", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := ts.upload(ccpor.RoleClerk, id, tt.filename, tt.declared, tt.data, map[string]string{"kind": "signed_order"})
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("upload: %d %s", resp.StatusCode, body)
			}
			var up uploaded
			if err := json.Unmarshal(body, &up); err != nil {
				t.Fatal(err)
			}
			d := up.Document
			if d.MediaType != tt.mediaType || d.Pages != tt.pages || d.Size != int64(len(tt.data)) || up.Existing {
				t.Errorf("stored %s, %d pages, %d bytes (existing %v); want %s, %d pages, %d bytes",
					d.MediaType, d.Pages, d.Size, up.Existing, tt.mediaType, tt.pages, len(tt.data))
			}
			if resp.Header.Get("Location") != d.Content {
				t.Errorf("Location %q, content link %q", resp.Header.Get("Location"), d.Content)
			}

			resp, got := ts.sendAs(ccpor.RoleOfficer, "GET", d.Content, "", nil)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(got, tt.data) {
				t.Fatalf("download: %d, %d bytes, want the %d uploaded", resp.StatusCode, len(got), len(tt.data))
			}
			for h, want := range map[string]string{
				"Content-Type":           tt.mediaType,
				"X-Content-Type-Options": "nosniff",
				"Content-Length":         fmt.Sprint(len(tt.data)),
			} {
				if got := resp.Header.Get(h); got != want {
					t.Errorf("%s: %q, want %q", h, got, want)
				}
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("Content-Security-Policy %q does not sandbox the file", csp)
			}
			if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "inline; filename=signed_order-"+d.ID) {
				t.Errorf("Content-Disposition %q", cd)
			}

			for page := 1; page <= tt.pages; page++ {
				resp, got := ts.sendAs(ccpor.RoleOfficer, "GET", fmt.Sprintf("/api/v1/documents/%s/pages/%d?width=120", d.ID, page), "", nil)
				if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
					t.Fatalf("page %d: %d %s", page, resp.StatusCode, got)
				}
				img, err := png.Decode(bytes.NewReader(got))
				if err != nil {
					t.Fatalf("page %d is not a PNG: %v", page, err)
				}
				if w := img.Bounds().Dx(); w != 120 {
					t.Errorf("page %d is %d pixels wide, want 120", page, w)
				}
			}
			resp, got = ts.sendAs(ccpor.RoleOfficer, "GET", fmt.Sprintf("/api/v1/documents/%s/pages/%d", d.ID, tt.pages+1), "", nil)
			mustProblem(t, resp, got, http.StatusNotFound)
		})
	}

	t.Run("SameBytesRecognised", func(t *testing.T) {
		data := jpegOfSize(t, 6000, "again")
		resp, body := ts.upload(ccpor.RoleClerk, id, "a.jpg", "image/jpeg", data, nil)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("first upload: %d %s", resp.StatusCode, body)
		}
		var first, second uploaded
		json.Unmarshal(body, &first)
		resp, body = ts.upload(ccpor.RoleClerk, id, "rescan.jpg", "image/jpeg", data, nil)
		json.Unmarshal(body, &second)
		if resp.StatusCode != http.StatusOK || !second.Existing || second.Document.ID != first.Document.ID {
			t.Errorf("second upload of the same bytes: %d existing=%v id %s, want 200 existing %s",
				resp.StatusCode, second.Existing, second.Document.ID, first.Document.ID)
		}
	})

	t.Run("ListedWithTheOrder", func(t *testing.T) {
		resp, body := ts.do(ccpor.RoleOfficer, "GET", "/api/v1/orders/"+id, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		var o struct {
			Documents []ccpor.Document `json:"documents"`
		}
		json.Unmarshal(body, &o)
		if len(o.Documents) != 6 {
			t.Errorf("order lists %d documents, want 6", len(o.Documents))
		}
	})

	t.Run("DownloadsAudited", func(t *testing.T) {
		entries, err := ts.db.AuditQuery(context.Background(), store.AuditFilter{OrderID: id, Action: "document.download"})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 5 {
			t.Errorf("%d downloads audited, want 5", len(entries))
		}
	})
}

func TestDocumentRefusals(t *testing.T) {
	const limit = 100_000
	ts := mustServer(t, func(s *api.Server) { s.MaxDocumentBytes = limit })
	id := ts.mustCreateOrder()
	jpg := jpegOfSize(t, 3000, "x")
	polyglot := jpegOfSize(t, 3000, "%PDF-1.7 1 0 obj << /OpenAction >> endobj")
	hugeTIFF := []byte{'I', 'I', 42, 0, 8, 0, 0, 0, // header, first IFD at 8
		3, 0, // three entries
		0x00, 0x01, 4, 0, 1, 0, 0, 0, 0xa0, 0x86, 0x01, 0x00, // ImageWidth LONG 100000
		0x01, 0x01, 4, 0, 1, 0, 0, 0, 0xa0, 0x86, 0x01, 0x00, // ImageLength LONG 100000
		0x02, 0x01, 3, 0, 1, 0, 0, 0, 8, 0, 0, 0, // BitsPerSample 8
		0, 0, 0, 0}
	for _, tt := range []struct {
		name, filename, declared string
		data                     []byte
		status                   int
		code                     string
	}{
		{"Empty", "order.pdf", "application/pdf", nil, http.StatusUnprocessableEntity, "empty_file"},
		{"OverCapByOne", "big.jpg", "image/jpeg", jpegOfSize(t, limit+1, "big"), http.StatusRequestEntityTooLarge, "document_too_large"},
		{"JPEGWithPDFInFirstKilobyte", "order.jpg", "image/jpeg", polyglot, http.StatusUnprocessableEntity, "polyglot"},
		{"HTML", "order.html", "text/html", []byte("<!doctype html><html><script>alert(1)</script></html>"), http.StatusUnsupportedMediaType, "unsupported_type"},
		{"SVG", "order.svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), http.StatusUnsupportedMediaType, "unsupported_type"},
		{"LiesAboutType", "order.png", "image/png", jpg, http.StatusUnsupportedMediaType, "type_mismatch"},
		{"EnormousTIFF", "order.tif", "image/tiff", hugeTIFF, http.StatusUnprocessableEntity, "too_many_pixels"},
		{"PDFWithJavaScript", "order.pdf", "application/pdf", []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"), http.StatusUnprocessableEntity, "pdf_javascript"},
		{"PDFWithEmbeddedFile", "order.pdf", "application/pdf", []byte("%PDF-1.7\n1 0 obj << /Type /Catalog /Names << /EmbeddedFiles 2 0 R >> >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"), http.StatusUnprocessableEntity, "pdf_embedded_file"},
		{"EncryptedPDF", "order.pdf", "application/pdf", []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R /Encrypt << /Filter /Standard /V 2 /R 3 >> >>\n%%EOF\n"), http.StatusUnprocessableEntity, "pdf_encrypted"},
		{"EnormousPNG", "order.png", "image/png", enormousPNG(), http.StatusUnprocessableEntity, "too_many_pixels"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := ts.upload(ccpor.RoleClerk, id, tt.filename, tt.declared, tt.data, nil)
			p := mustProblem(t, resp, body, tt.status)
			if p.Type != "urn:ccpor:problem:"+tt.code {
				t.Errorf("problem type %s, want %s: %s", p.Type, tt.code, p.Detail)
			}
		})
	}
	t.Run("AtAndUnderCap", func(t *testing.T) {
		for _, size := range []int{limit, limit - 1} {
			resp, body := ts.upload(ccpor.RoleClerk, id, "big.jpg", "image/jpeg", jpegOfSize(t, size, fmt.Sprint("cap", size)), nil)
			if resp.StatusCode != http.StatusCreated {
				t.Errorf("a file of %d bytes, the cap being %d: %d %s", size, limit, resp.StatusCode, body)
			}
		}
	})
	t.Run("BadForms", func(t *testing.T) {
		resp, body := ts.sendAs(ccpor.RoleClerk, "POST", "/api/v1/orders/"+id+"/documents", "application/json", []byte(`{}`))
		mustProblem(t, resp, body, http.StatusBadRequest)
		resp, body = ts.upload(ccpor.RoleClerk, id, "a.jpg", "image/jpeg", jpg, map[string]string{"kind": "selfie"})
		mustProblem(t, resp, body, http.StatusBadRequest)
		resp, body = ts.upload(ccpor.RoleClerk, "00000000-0000-4000-8000-000000000000", "a.jpg", "image/jpeg", jpg, nil)
		mustProblem(t, resp, body, http.StatusNotFound)
	})
	t.Run("NothingKept", func(t *testing.T) {
		docs, err := ts.db.FindDocuments(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) != 2 {
			t.Errorf("%d documents kept, want only the two at and under the cap", len(docs))
		}
		tmp, _ := os.ReadDir(os.TempDir())
		for _, e := range tmp {
			if strings.HasPrefix(e.Name(), "ccpor-upload-") {
				t.Errorf("temporary upload %s left behind", e.Name())
			}
		}
	})
}

// TestDocumentUploadMemory uploads 5 MB scans through the real server,
// streamed from a pipe so that the client holds none of it, and samples
// the heap meanwhile: the server must not hold the file in memory. The
// JPEG is mostly comment (the streaming path); the TIFF is 5 MB of pixels
// that are decoded to be confirmed (the decoding path).
func TestDocumentUploadMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("measures memory over a 5 MB upload")
	}
	ts := mustServer(t)
	id := ts.mustCreateOrder()
	var tiff bytes.Buffer
	if err := fixtures.WriteScanTIFF(&tiff, []*image.Gray{grayPage(2000, 2620, 5)}, 300); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, filename, mediaType string
		data                      []byte
	}{
		{"JPEG", "scan.jpg", "image/jpeg", jpegOfSize(t, 5<<20, "five megabytes")},
		{"TIFF", "scan.tif", "image/tiff", tiff.Bytes()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			growth := uploadHeapGrowth(t, ts, id, tt.filename, tt.mediaType, tt.data)
			t.Logf("%s of %.1f MB: heap in use grew by %.1f MB at most", tt.name, float64(len(tt.data))/(1<<20), float64(growth)/(1<<20))
			if growth > 30<<20 {
				t.Errorf("uploading %.1f MB grew the heap by %.1f MB, more than 30 MB", float64(len(tt.data))/(1<<20), float64(growth)/(1<<20))
			}
		})
	}
}

// uploadHeapGrowth uploads data and returns the most the heap in use grew
// meanwhile. The test's own copy of the file is in the heap before and
// after: growth is what serving the upload added.
func uploadHeapGrowth(t *testing.T, ts *testServer, orderID, filename, mediaType string, data []byte) int64 {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, filename))
		h.Set("Content-Type", mediaType)
		part, err := mw.CreatePart(h)
		if err == nil {
			// In pieces, as a network would deliver them.
			for off := 0; off < len(data) && err == nil; off += 32 << 10 {
				_, err = part.Write(data[off:min(off+32<<10, len(data))])
			}
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest("POST", ts.srv.URL+"/api/v1/orders/"+orderID+"/documents", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+ts.tokens[ccpor.RoleClerk])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	close(stop)
	<-sampled
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	return int64(peak.Load()) - int64(before.HeapInuse)
}

// enormousPNG is the start of a PNG claiming 100,000 × 100,000 pixels.
func enormousPNG() []byte {
	ihdr := []byte{'I', 'H', 'D', 'R', 0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0, 8, 0, 0, 0, 0}
	out := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0d")
	out = append(out, ihdr...)
	crc := crc32.ChecksumIEEE(ihdr)
	return append(out, byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc))
}
