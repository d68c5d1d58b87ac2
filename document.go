package ccpor

import (
	"context"
	"io"
	"time"
)

// DocumentKind says what a document is to its order.
type DocumentKind string

// Document kinds. The signed order is the one officers need: handwritten
// conditions and warnings are often on the scan and nowhere in the data.
const (
	DocSignedOrder    DocumentKind = "signed_order"
	DocProofOfService DocumentKind = "proof_of_service"
	DocModification   DocumentKind = "modification"
	DocOther          DocumentKind = "other"
)

// DocumentKinds lists every document kind.
var DocumentKinds = []DocumentKind{DocSignedOrder, DocProofOfService, DocModification, DocOther}

// OCRState is where the machine reading of a document stands.
type OCRState string

// OCR states. A document is pending until a node with OCR reads it; a
// failure is recorded and never touches the document itself.
const (
	OCRPending OCRState = "pending"
	OCRRunning OCRState = "running"
	OCRDone    OCRState = "done"
	OCRFailed  OCRState = "failed"
	// OCROff is shown, never stored: this server cannot read documents
	// (no OCR program installed), so a pending one waits for a node that can.
	OCROff OCRState = "off"
)

// MachineReadNotice goes with every OCR text shown: the words were read by
// a machine from the scan and may be wrong; the scan is the record.
const MachineReadNotice = "Machine-read text (OCR) of the scan: it may contain errors. The scanned image is the record."

// Document is one scanned file kept with an order: its bytes are stored
// with the order in the system of record; this is what is known of them.
type Document struct {
	ID        string       `json:"id"`
	OrderID   string       `json:"order_id"`
	Kind      DocumentKind `json:"kind"`
	MediaType string       `json:"media_type"`
	Filename  string       `json:"filename,omitempty"`
	Size      int64        `json:"size"`
	SHA256    string       `json:"sha256"` // hex
	Pages     int          `json:"pages"`
	// Width and Height are the first page's in pixels; 0 for a PDF.
	Width  int `json:"width,omitempty"`
	Height int `json:"height,omitempty"`
	// Redacted marks a copy whose confidential details (a protected
	// person's address, a confidential minor's name) were blacked out
	// before upload, which those who may not see them may view.
	Redacted   bool        `json:"redacted"`
	UploadedBy string      `json:"uploaded_by"`
	UploadedAt time.Time   `json:"uploaded_at"`
	OCR        DocumentOCR `json:"ocr"`
}

// DocumentOCR is the machine-read text of a document and where it stands.
type DocumentOCR struct {
	State OCRState `json:"state"`
	// MachineRead is always true where there is text: a reader must never
	// take it for what the court entered.
	MachineRead bool       `json:"machine_read"`
	Notice      string     `json:"notice,omitempty"`
	At          *time.Time `json:"at,omitempty"`
	Error       string     `json:"error,omitempty"`
	Pages       []PageText `json:"pages,omitempty"`
}

// PageText is the machine-read text of one page.
type PageText struct {
	Page int    `json:"page"`
	Text string `json:"text"`
}

// MayView reports whether u may view document d of an order with access
// a: whoever may see the order, except that the scan of an order that
// protects a minor kept confidential is shown to those who may not see
// that minor's identity only as a redacted copy, for an image cannot be
// redacted on the fly. (Protected people's addresses are not on the
// order forms; they go on the confidential CLETS-001, which is data.)
func (u *User) MayView(a OrderAccess, d *Document) bool {
	if !u.MaySee(a) {
		return false
	}
	return d.Redacted || len(a.ConfidentialMinors) == 0 || u.SeesConfidential()
}

// DocumentService keeps the scanned documents of orders.
type DocumentService interface {
	// CreateDocument stores d with its content (d.Size bytes whose SHA-256
	// is d.SHA256) for order d.OrderID, with an outbox entry for the order,
	// in one transaction. When the order already has a document with the
	// same bytes it stores nothing, fills d with that document and returns
	// existing true. It returns ENotFound when the order does not exist
	// and EInvalid when the content does not match the size or hash.
	CreateDocument(ctx context.Context, d *Document, content io.Reader) (existing bool, err error)
	// FindDocument returns a document with its OCR text, or ENotFound.
	FindDocument(ctx context.Context, id string) (*Document, error)
	// FindDocuments returns an order's documents with their OCR text, in
	// upload order.
	FindDocuments(ctx context.Context, orderID string) ([]Document, error)
	// CopyDocument writes a document's bytes to w, or returns ENotFound.
	CopyDocument(ctx context.Context, id string, w io.Writer) error
}
