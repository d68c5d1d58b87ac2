package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/fixtures"
	"github.com/ccpor/ccpor/store/scan"
	"github.com/ccpor/ccpor/store/storetest"
)

// requireOCR stops a test that needs tesseract and poppler where they are
// not installed: skipped on a developer's machine, failed in CI, where
// `make test` installs them.
func requireOCR(tb testing.TB) scan.Tools {
	tb.Helper()
	tools := scan.FindTools()
	if !tools.OCR() || !tools.PDF() {
		msg := "tesseract-ocr and poppler-utils are needed (make deps installs them)"
		if os.Getenv("CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return tools
}

// TestOCREndToEnd uploads a generated scan through the API of a running
// server, waits for its background OCR, and finds the order by words on
// the scan: printed ones and the judge's handwritten condition.
func TestOCREndToEnd(t *testing.T) {
	requireOCR(t)
	ctx := context.Background()
	url := storetest.MustCreateDatabase(t)
	db := mustOpen(t, url)
	if _, err := seed(ctx, db, 7, 20, nil); err != nil {
		t.Fatal(err)
	}
	orders, err := db.FindOrdersByIDs(ctx, orderIDs(t, db)[:1])
	if err != nil {
		t.Fatal(err)
	}
	o := orders[0]
	clerk, err := db.CreateUser(ctx, &ccpor.User{Name: "Clerk", Role: ccpor.RoleClerk, County: o.County})
	if err != nil {
		t.Fatal(err)
	}
	judge, err := db.CreateUser(ctx, &ccpor.User{Name: "Judge", Role: ccpor.RoleJudge, County: o.County})
	if err != nil {
		t.Fatal(err)
	}
	base := MustServe(t, url)

	page := fixtures.OrderScan(o, fixtures.ScanOptions{Handwritten: "Surrender all firearms to the Sheriff within 24 hours", Seed: 3})
	var pdf bytes.Buffer
	if err := fixtures.WriteScanPDF(&pdf, []*image.Gray{page}, 200); err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "signed-order.pdf")
	fw.Write(pdf.Bytes())
	mw.Close()
	req, _ := http.NewRequest("POST", base+"/api/v1/orders/"+o.ID+"/documents", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+clerk)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, answer)
	}

	// OCR runs in the background; the order shows its text, marked as
	// machine-read, once it is done.
	var doc ccpor.Document
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var view struct {
			Documents []ccpor.Document `json:"documents"`
		}
		if err := json.Unmarshal(mustGet(t, base, judge, "/api/v1/orders/"+o.ID), &view); err != nil {
			t.Fatal(err)
		}
		if len(view.Documents) != 1 {
			t.Fatalf("order lists %d documents, want 1", len(view.Documents))
		}
		doc = view.Documents[0]
		if doc.OCR.State == ccpor.OCRDone || doc.OCR.State == ccpor.OCRFailed || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if doc.OCR.State != ccpor.OCRDone || len(doc.OCR.Pages) != 1 || !doc.OCR.MachineRead || doc.OCR.Notice == "" {
		t.Fatalf("OCR of the scan: %+v", doc.OCR)
	}
	text := strings.ToLower(doc.OCR.Pages[0].Text)
	for _, word := range []string{"superior court", strings.ToLower(o.County), "firearms"} {
		if !strings.Contains(text, word) {
			t.Errorf("OCR text lacks %q:\n%s", word, doc.OCR.Pages[0].Text)
		}
	}

	// The words are searchable, through the index, once the follower has
	// applied the OCR's outbox entry.
	for _, words := range []string{"superior court", "firearm"} {
		var found struct {
			Hits []struct {
				OrderID     string `json:"order_id"`
				Excerpt     string `json:"excerpt"`
				MachineRead bool   `json:"machine_read"`
			} `json:"hits"`
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			b, _ := json.Marshal(map[string]string{"text": words, "status": "any"})
			req, _ := http.NewRequest("POST", base+"/api/v1/search/text", bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+judge)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("text search %q: %d %s", words, resp.StatusCode, answer)
			}
			json.Unmarshal(answer, &found)
			if len(found.Hits) > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if len(found.Hits) != 1 || found.Hits[0].OrderID != o.ID || !found.Hits[0].MachineRead ||
			!strings.Contains(strings.ToLower(found.Hits[0].Excerpt), strings.Fields(words)[0]) {
			t.Errorf("text search %q found %+v, want order %s with an excerpt", words, found.Hits, o.ID)
		}
	}
}

// TestOCRFailureKeepsDocument: a reading that fails is retried, then
// marked failed; the document stays whole and downloadable throughout.
func TestOCRFailureKeepsDocument(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpenDB(t)
	if _, err := seed(ctx, db, 7, 1, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := seedScans(ctx, db, 1, false); err != nil || n != 1 {
		t.Fatalf("seedScans = %d, %v", n, err)
	}
	// A tesseract that always fails, as a crash or a killed process would.
	w := &ocrWorker{db: db, tools: scan.Tools{Tesseract: "/bin/false"}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var id string
	for attempt := 1; attempt <= 3; attempt++ {
		worked, err := w.step(ctx)
		if err != nil || !worked {
			t.Fatalf("attempt %d: worked %v, %v", attempt, worked, err)
		}
	}
	if worked, err := w.step(ctx); worked || err != nil {
		t.Fatalf("a failed document was taken again: %v, %v", worked, err)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT id::text FROM documents`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	d, err := db.FindDocument(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if d.OCR.State != ccpor.OCRFailed || d.OCR.Error == "" {
		t.Errorf("after three failures: %+v", d.OCR)
	}
	var buf bytes.Buffer
	if err := db.CopyDocument(ctx, id, &buf); err != nil || int64(buf.Len()) != d.Size {
		t.Errorf("document after failed OCR: %v, %d of %d bytes", err, buf.Len(), d.Size)
	}
}
