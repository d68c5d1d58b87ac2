package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Ensure DB keeps documents.
var _ ccpor.DocumentService = (*DB)(nil)

// chunkSize is the largest piece of a document stored in one row: upload
// and download hold one piece at a time, never the whole file.
const chunkSize = 1 << 20

// CreateDocument stores d and its content with an outbox entry for the
// order, in one transaction: the document is in the record when it
// returns, whatever happens later (OCR, indexing). See
// ccpor.DocumentService for the errors.
func (db *DB) CreateDocument(ctx context.Context, d *ccpor.Document, content io.Reader) (bool, error) {
	if err := checkID(d.OrderID); err != nil {
		return false, ccpor.Errorf(ccpor.ENotFound, "Order %s not found.", d.OrderID)
	}
	sum, err := hex.DecodeString(d.SHA256)
	if err != nil || len(sum) != sha256.Size {
		return false, ccpor.Errorf(ccpor.EInvalid, "The document's SHA-256 must be 64 hex digits.")
	}
	if d.ID == "" {
		d.ID = uuid.NewString()
	}
	d.UploadedAt = db.Now()
	d.UploadedBy = actor(ctx)
	d.OCR = ccpor.DocumentOCR{State: ccpor.OCRPending}
	existing := false
	err = pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		// Lock the order's head row: a document is added to an order that
		// exists, and two uploads of the same bytes meet here in turn.
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT true FROM orders WHERE id = $1 FOR SHARE`, d.OrderID).Scan(&exists); errors.Is(err, pgx.ErrNoRows) {
			return ccpor.Errorf(ccpor.ENotFound, "Order %s not found.", d.OrderID)
		} else if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO documents (id, order_id, kind, media_type, filename, size, sha256, pages,
				width, height, redacted, uploaded_by, uploaded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			ON CONFLICT (order_id, sha256) DO NOTHING`,
			d.ID, d.OrderID, d.Kind, d.MediaType, d.Filename, d.Size, sum, d.Pages,
			d.Width, d.Height, d.Redacted, d.UploadedBy, d.UploadedAt)
		if err != nil {
			return formatError(err)
		}
		if tag.RowsAffected() == 0 {
			existing = true
			return nil
		}
		if err := writeChunks(ctx, tx, d, sum, content); err != nil {
			return err
		}
		return appendOutbox(ctx, tx, d.OrderID)
	})
	if err != nil {
		return false, fmt.Errorf("create document: %w", err)
	}
	if existing {
		old, err := db.findDocumentBySum(ctx, d.OrderID, sum)
		if err != nil {
			return false, err
		}
		*d = *old
	}
	return existing, nil
}

// writeChunks stores content in pieces, checking that it is d.Size bytes
// with the SHA-256 sum: what was inspected is what is kept.
func writeChunks(ctx context.Context, tx pgx.Tx, d *ccpor.Document, sum []byte, content io.Reader) error {
	h := sha256.New()
	buf := make([]byte, chunkSize)
	var size int64
	for n := 0; ; n++ {
		k, err := io.ReadFull(content, buf)
		if k > 0 {
			h.Write(buf[:k])
			size += int64(k)
			if size > d.Size {
				break
			}
			if _, err := tx.Exec(ctx, `INSERT INTO document_chunks (document_id, n, data) VALUES ($1, $2, $3)`,
				d.ID, n, buf[:k]); err != nil {
				return fmt.Errorf("document chunk %d: %w", n, err)
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		} else if err != nil {
			return fmt.Errorf("read document: %w", err)
		}
	}
	if size != d.Size || !bytes.Equal(h.Sum(nil), sum) {
		return ccpor.Errorf(ccpor.EInvalid, "The document's content does not match its size and SHA-256.")
	}
	return nil
}

// documentColumns are read by scanDocument, in its order.
const documentColumns = `d.id::text, d.order_id::text, d.kind, d.media_type, d.filename, d.size, d.sha256,
	d.pages, d.width, d.height, d.redacted, d.uploaded_by, d.uploaded_at, d.ocr_state, d.ocr_at, d.ocr_error,
	coalesce((SELECT array_agg(p.page ORDER BY p.page) FROM document_pages p WHERE p.document_id = d.id), '{}'),
	coalesce((SELECT array_agg(p.text ORDER BY p.page) FROM document_pages p WHERE p.document_id = d.id), '{}')`

func scanDocument(r pgx.CollectableRow) (ccpor.Document, error) {
	var d ccpor.Document
	var sum []byte
	var pages []int32
	var texts []string
	var state string
	err := r.Scan(&d.ID, &d.OrderID, &d.Kind, &d.MediaType, &d.Filename, &d.Size, &sum,
		&d.Pages, &d.Width, &d.Height, &d.Redacted, &d.UploadedBy, &d.UploadedAt,
		&state, &d.OCR.At, &d.OCR.Error, &pages, &texts)
	if err != nil {
		return d, err
	}
	d.SHA256 = hex.EncodeToString(sum)
	d.OCR.State = ccpor.OCRState(state)
	for i := range pages {
		d.OCR.Pages = append(d.OCR.Pages, ccpor.PageText{Page: int(pages[i]), Text: texts[i]})
	}
	if len(d.OCR.Pages) > 0 {
		d.OCR.MachineRead, d.OCR.Notice = true, ccpor.MachineReadNotice
	}
	return d, nil
}

// FindDocument returns a document with its OCR text, or ENotFound.
func (db *DB) FindDocument(ctx context.Context, id string) (*ccpor.Document, error) {
	if checkID(id) != nil {
		return nil, ccpor.Errorf(ccpor.ENotFound, "Document %s not found.", id)
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+documentColumns+` FROM documents d WHERE d.id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("find document: %w", err)
	}
	d, err := pgx.CollectExactlyOneRow(rows, scanDocument)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ccpor.Errorf(ccpor.ENotFound, "Document %s not found.", id)
	} else if err != nil {
		return nil, fmt.Errorf("find document: %w", err)
	}
	return &d, nil
}

func (db *DB) findDocumentBySum(ctx context.Context, orderID string, sum []byte) (*ccpor.Document, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+documentColumns+` FROM documents d WHERE d.order_id = $1 AND d.sha256 = $2`, orderID, sum)
	if err != nil {
		return nil, fmt.Errorf("find document: %w", err)
	}
	d, err := pgx.CollectExactlyOneRow(rows, scanDocument)
	if err != nil {
		return nil, fmt.Errorf("find document: %w", err)
	}
	return &d, nil
}

// FindDocuments returns an order's documents with their OCR text, in
// upload order; none for an order that has none or does not exist.
func (db *DB) FindDocuments(ctx context.Context, orderID string) ([]ccpor.Document, error) {
	if checkID(orderID) != nil {
		return nil, nil
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+documentColumns+` FROM documents d
		WHERE d.order_id = $1 ORDER BY d.uploaded_at, d.id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("find documents: %w", err)
	}
	docs, err := pgx.CollectRows(rows, scanDocument)
	if err != nil {
		return nil, fmt.Errorf("find documents: %w", err)
	}
	return docs, nil
}

// CopyDocument writes a document's bytes to w, one piece at a time, or
// returns ENotFound. It reads the pieces in one read-only transaction, so
// what it writes is one document whole.
func (db *DB) CopyDocument(ctx context.Context, id string, w io.Writer) error {
	if checkID(id) != nil {
		return ccpor.Errorf(ccpor.ENotFound, "Document %s not found.", id)
	}
	return pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var count int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM document_chunks WHERE document_id = $1`, id).Scan(&count); err != nil {
			return fmt.Errorf("copy document: %w", err)
		}
		if count == 0 {
			return ccpor.Errorf(ccpor.ENotFound, "Document %s not found.", id)
		}
		// One query per piece: a query's rows arrive whole in the driver's
		// buffer, and one piece is all that should be in memory.
		for n := 0; n < count; n++ {
			var data []byte
			if err := tx.QueryRow(ctx, `SELECT data FROM document_chunks WHERE document_id = $1 AND n = $2`, id, n).Scan(&data); err != nil {
				return fmt.Errorf("copy document piece %d: %w", n, err)
			}
			if _, err := w.Write(data); err != nil {
				return err
			}
		}
		return nil
	})
}

// OCRJob is a document taken for machine reading.
type OCRJob struct {
	Document ccpor.Document
	Attempt  int
}

// ocrLease is how long a node may hold a document for OCR before another
// may take it: long enough for a many-page scan, short enough that a node
// that died does not leave a document unread for long.
const ocrLease = 30 * time.Minute

// maxOCRAttempts is how many times a document is tried before it is
// marked failed.
const maxOCRAttempts = 3

// TakeOCRJob takes the oldest document waiting for OCR, leasing it to this
// node, or returns nil when none waits. Nodes take different documents
// (SKIP LOCKED), and a lease that ran out is taken again.
func (db *DB) TakeOCRJob(ctx context.Context) (*OCRJob, error) {
	var id string
	var attempt int
	err := db.Pool.QueryRow(ctx, `
		UPDATE documents SET ocr_state = 'running', ocr_attempts = ocr_attempts + 1, ocr_lease = $1
		WHERE id = (
			SELECT id FROM documents
			WHERE ocr_state = 'pending' OR (ocr_state = 'running' AND ocr_lease < $2)
			ORDER BY uploaded_at LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING id::text, ocr_attempts`, db.Now().Add(ocrLease), db.Now()).Scan(&id, &attempt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("take OCR job: %w", err)
	}
	d, err := db.FindDocument(ctx, id)
	if err != nil {
		return nil, err
	}
	return &OCRJob{Document: *d, Attempt: attempt}, nil
}

// FinishOCR stores the text read from each page of a document and marks
// it done, with an outbox entry so the index makes the words findable.
func (db *DB) FinishOCR(ctx context.Context, docID string, pages []string) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var orderID string
		if err := tx.QueryRow(ctx, `
			UPDATE documents SET ocr_state = 'done', ocr_at = $2, ocr_error = '', ocr_lease = NULL
			WHERE id = $1 RETURNING order_id::text`, docID, db.Now()).Scan(&orderID); err != nil {
			return fmt.Errorf("finish OCR: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM document_pages WHERE document_id = $1`, docID); err != nil {
			return err
		}
		for i, text := range pages {
			if _, err := tx.Exec(ctx, `INSERT INTO document_pages (document_id, page, text) VALUES ($1, $2, $3)`,
				docID, i+1, text); err != nil {
				return fmt.Errorf("finish OCR page %d: %w", i+1, err)
			}
		}
		return appendOutbox(ctx, tx, orderID)
	})
}

// FailOCR records why reading a document failed: it waits for another try
// or, after maxOCRAttempts, is marked failed. The document is untouched.
func (db *DB) FailOCR(ctx context.Context, docID string, cause error) error {
	msg := cause.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	_, err := db.Pool.Exec(ctx, `
		UPDATE documents SET ocr_error = $2, ocr_lease = NULL,
			ocr_state = CASE WHEN ocr_attempts >= $3 THEN 'failed' ELSE 'pending' END
		WHERE id = $1`, docID, msg, maxOCRAttempts)
	if err != nil {
		return fmt.Errorf("fail OCR: %w", err)
	}
	return nil
}

// RetryOCR puts every document whose reading failed back in the queue,
// after the cause (a missing language, a tool upgrade) was fixed, and
// returns how many.
func (db *DB) RetryOCR(ctx context.Context) (int64, error) {
	tag, err := db.Pool.Exec(ctx, `UPDATE documents SET ocr_state = 'pending', ocr_attempts = 0 WHERE ocr_state = 'failed'`)
	if err != nil {
		return 0, fmt.Errorf("retry OCR: %w", err)
	}
	return tag.RowsAffected(), nil
}
