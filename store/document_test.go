package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/ccpor/ccpor"
)

func mustDocument(tb testing.TB, orderID string, content []byte) *ccpor.Document {
	tb.Helper()
	sum := sha256.Sum256(content)
	return &ccpor.Document{OrderID: orderID, Kind: ccpor.DocSignedOrder, MediaType: "application/pdf",
		Filename: "order.pdf", Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:]), Pages: 1}
}

func randomBytes(tb testing.TB, n int) []byte {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestDocument(t *testing.T) {
	ctx := context.Background()
	db := mustDB(t)
	o := mustOrder(t, "25FL009001")
	if err := db.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	head, _ := db.ChangesHead(ctx)

	// More than two pieces, the last one short: the pieces must come back
	// in order and whole.
	content := randomBytes(t, 2<<20+12345)
	d := mustDocument(t, o.ID, content)
	existing, err := db.CreateDocument(ctx, d, bytes.NewReader(content))
	if err != nil || existing {
		t.Fatalf("CreateDocument = %v, %v; want new document", existing, err)
	}
	t.Run("StoredWithOutboxEntry", func(t *testing.T) {
		changes, err := db.ChangesSince(ctx, head, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) != 1 || changes[0].OrderID != o.ID {
			t.Errorf("outbox after upload = %+v, want one entry for order %s", changes, o.ID)
		}
		var buf bytes.Buffer
		if err := db.CopyDocument(ctx, d.ID, &buf); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), content) {
			t.Errorf("copied %d bytes, not the %d uploaded", buf.Len(), len(content))
		}
		got, err := db.FindDocument(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.SHA256 != d.SHA256 || got.Size != d.Size || got.OCR.State != ccpor.OCRPending || got.UploadedBy != "system" {
			t.Errorf("found %+v", got)
		}
	})
	t.Run("SameBytesRecognised", func(t *testing.T) {
		again := mustDocument(t, o.ID, content)
		again.Filename = "rescan.pdf"
		existing, err := db.CreateDocument(ctx, again, bytes.NewReader(content))
		if err != nil || !existing {
			t.Fatalf("CreateDocument of the same bytes = %v, %v; want existing", existing, err)
		}
		if again.ID != d.ID || again.Filename != "order.pdf" {
			t.Errorf("re-upload answered %s %q, want the first document %s", again.ID, again.Filename, d.ID)
		}
		docs, _ := db.FindDocuments(ctx, o.ID)
		if len(docs) != 1 {
			t.Errorf("order has %d documents, want 1", len(docs))
		}
	})
	t.Run("ContentMustMatchHash", func(t *testing.T) {
		other := randomBytes(t, 1000)
		bad := mustDocument(t, o.ID, other)
		other[0] ^= 1
		_, err := db.CreateDocument(ctx, bad, bytes.NewReader(other))
		if ccpor.ErrorCode(err) != ccpor.EInvalid {
			t.Fatalf("CreateDocument with altered bytes = %v, want EInvalid", err)
		}
		if _, err := db.FindDocument(ctx, bad.ID); ccpor.ErrorCode(err) != ccpor.ENotFound {
			t.Errorf("a refused document was kept: %v", err)
		}
	})
	t.Run("NoSuchOrder", func(t *testing.T) {
		c := []byte("x")
		_, err := db.CreateDocument(ctx, mustDocument(t, "6f1c2a4e-0000-4000-8000-000000000000", c), bytes.NewReader(c))
		if ccpor.ErrorCode(err) != ccpor.ENotFound {
			t.Errorf("upload to a missing order = %v, want ENotFound", err)
		}
	})
	t.Run("OCRQueue", func(t *testing.T) {
		job, err := db.TakeOCRJob(ctx)
		if err != nil || job == nil || job.Document.ID != d.ID || job.Attempt != 1 {
			t.Fatalf("TakeOCRJob = %+v, %v", job, err)
		}
		if again, err := db.TakeOCRJob(ctx); err != nil || again != nil {
			t.Fatalf("a leased document was taken twice: %+v, %v", again, err)
		}
		// A failure leaves the document whole and waiting for another try.
		if err := db.FailOCR(ctx, d.ID, errors.New("tesseract: killed")); err != nil {
			t.Fatal(err)
		}
		got, _ := db.FindDocument(ctx, d.ID)
		if got.OCR.State != ccpor.OCRPending || !strings.Contains(got.OCR.Error, "killed") {
			t.Errorf("after a failure: %+v", got.OCR)
		}
		var buf bytes.Buffer
		if err := db.CopyDocument(ctx, d.ID, &buf); err != nil || !bytes.Equal(buf.Bytes(), content) {
			t.Errorf("document after OCR failure: %v, %d bytes", err, buf.Len())
		}
		for attempt := 2; attempt <= 3; attempt++ {
			job, err := db.TakeOCRJob(ctx)
			if err != nil || job == nil || job.Attempt != attempt {
				t.Fatalf("attempt %d: %+v, %v", attempt, job, err)
			}
			if err := db.FailOCR(ctx, d.ID, errors.New("still failing")); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := db.FindDocument(ctx, d.ID); got.OCR.State != ccpor.OCRFailed {
			t.Errorf("after three failures state = %s, want failed", got.OCR.State)
		}
		if n, err := db.RetryOCR(ctx); err != nil || n != 1 {
			t.Fatalf("RetryOCR = %d, %v", n, err)
		}
		job, _ = db.TakeOCRJob(ctx)
		before, _ := db.ChangesHead(ctx)
		if err := db.FinishOCR(ctx, job.Document.ID, []string{"SUPERIOR COURT", "surrender all firearms"}); err != nil {
			t.Fatal(err)
		}
		got, _ = db.FindDocument(ctx, d.ID)
		if got.OCR.State != ccpor.OCRDone || len(got.OCR.Pages) != 2 || !got.OCR.MachineRead || got.OCR.Pages[1].Text != "surrender all firearms" {
			t.Errorf("after OCR: %+v", got.OCR)
		}
		orders, err := db.FindOrdersByIDs(ctx, []string{o.ID})
		if err != nil || len(orders) != 1 || orders[0].ScanText != "SUPERIOR COURT\nsurrender all firearms" {
			t.Errorf("order's scan text for the index = %+v, %v", orders, err)
		}
		if after, _ := db.ChangesHead(ctx); after != before+1 {
			t.Errorf("OCR result appended %d outbox entries, want 1", after-before)
		}
	})
}
