package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store/scan"
	"github.com/gin-gonic/gin"
)

// DefaultMaxDocumentBytes caps an uploaded scan unless the server sets
// MaxDocumentBytes: a many-page order scanned at 300 dpi fits.
const DefaultMaxDocumentBytes = 25 << 20

// multipartOverhead is what a multipart body may carry besides the file:
// boundaries, part headers and the small form fields.
const multipartOverhead = 64 << 10

func (s *Server) registerDocumentRoutes(r *gin.RouterGroup) {
	r.POST("/orders/:id/documents", s.wrap(s.handleDocumentUpload))
	r.GET("/documents/:id", s.wrap(s.handleDocumentDownload))
	r.GET("/documents/:id/pages/:page", s.wrap(s.handleDocumentPage))
}

// refusal is a request refused with its own status and problem code: a
// file that is too large, of a refused type, or dangerous.
type refusal struct {
	status  int
	code    string
	message string
}

func (r *refusal) Error() string { return r.message }

func (s *Server) maxDocumentBytes() int64 {
	if s.MaxDocumentBytes > 0 {
		return s.MaxDocumentBytes
	}
	return DefaultMaxDocumentBytes
}

// documentView is a document as the API shows it: with where to get its
// bytes and pages, and, when the user may not view it, why.
type documentView struct {
	ccpor.Document
	Content  string `json:"content,omitempty"`
	PageURL  string `json:"page_image,omitempty"` // {page} stands for the page number
	Withheld string `json:"withheld,omitempty"`
}

// viewDocument shows d to u, who may see its order (access a): a document
// they may not view is listed, for its existence is no secret from them,
// without its text or links.
func (s *Server) viewDocument(u *ccpor.User, a ccpor.OrderAccess, d ccpor.Document) documentView {
	if d.OCR.State == ccpor.OCRPending && !s.Scan.OCR() {
		d.OCR.State = ccpor.OCROff
		d.OCR.Notice = "OCR is off on this server (tesseract-ocr is not installed); the scan will be read by a server that has it."
	}
	if !u.MayView(a, &d) {
		d.OCR.Pages, d.OCR.MachineRead, d.OCR.Notice = nil, false, ""
		return documentView{Document: d, Withheld: withheldMessage}
	}
	return documentView{Document: d,
		Content: "/api/v1/documents/" + d.ID,
		PageURL: "/api/v1/documents/" + d.ID + "/pages/{page}"}
}

const withheldMessage = "This scan shows the identity of a minor kept confidential (FC 6301.5); only judges and clerks may view it until the court uploads a redacted copy."

// handleDocumentUpload stores a scan with its order: streamed to a
// temporary file under the size cap, hashed, its type decided from its
// bytes and confirmed by decoding, then stored in one transaction.
func (s *Server) handleDocumentUpload(c *gin.Context) error {
	ctx := c.Request.Context()
	o, err := s.Orders.FindOrderByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := showOrder(ctx, o); err != nil {
		return err
	}
	if err := mayAddDocuments(ctx, o); err != nil {
		return err
	}
	up, err := s.readUpload(c)
	if up != nil {
		defer up.remove()
	}
	if err != nil {
		return err
	}
	d, existing, err := s.keepScan(ctx, o, up)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if existing {
		// The same bytes were already uploaded for this order: nothing new
		// was stored, and the clerk is told which document they are.
		status = http.StatusOK
	}
	c.Header("Location", "/api/v1/documents/"+d.ID)
	c.JSON(status, gin.H{"document": s.viewDocument(ccpor.UserFromContext(ctx), ccpor.AccessOf(o), *d), "existing": existing})
	return nil
}

// mayAddDocuments refuses (EForbidden) anyone but a clerk of the county
// that issued o; the route's policy already admits only clerks.
func mayAddDocuments(ctx context.Context, o *ccpor.Order) error {
	if u := ccpor.UserFromContext(ctx); u.County != o.County {
		return ccpor.Errorf(ccpor.EForbidden, "Only clerks of %s County, which issued this order, may add documents to it.", o.County)
	}
	return nil
}

// keepScan checks a received file (its type from its bytes, confirmed by
// decoding) and stores it with order o, audited: for the API's upload and
// the scan attached at intake alike. A refused file is a *refusal; a
// missing checking program EUnavailable.
func (s *Server) keepScan(ctx context.Context, o *ccpor.Order, up *upload) (*ccpor.Document, bool, error) {
	info, err := s.Scan.Inspect(ctx, up.path, up.declared, up.filename, scan.Limits{})
	var ref *scan.Refusal
	switch {
	case errors.As(err, &ref):
		status := http.StatusUnprocessableEntity
		if ref.Code == scan.CodeUnsupportedType || ref.Code == scan.CodeTypeMismatch {
			status = http.StatusUnsupportedMediaType
		}
		return nil, false, &refusal{status, ref.Code, ref.Message}
	case errors.Is(err, scan.ErrUnavailable):
		s.Logger.Error("document check unavailable", "err", err)
		return nil, false, ccpor.Errorf(ccpor.EUnavailable, "This server cannot check that kind of file: %s is not installed.", missingTool(err))
	case err != nil:
		return nil, false, err
	}
	d := &ccpor.Document{OrderID: o.ID, Kind: up.kind, MediaType: info.MediaType, Filename: up.filename,
		Size: up.size, SHA256: up.sha256, Pages: info.Pages, Width: info.Width, Height: info.Height, Redacted: up.redacted}
	f, err := os.Open(up.path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	existing, err := s.Documents.CreateDocument(ctx, d, f)
	if err != nil {
		return nil, false, err
	}
	if err := s.Audit.Audit(ctx, "document.upload", o.ID, gin.H{"document_id": d.ID, "sha256": d.SHA256,
		"size": d.Size, "media_type": d.MediaType, "existing": existing}); err != nil {
		return nil, false, err
	}
	if s.Follower != nil {
		s.Follower.Nudge()
	}
	return d, existing, nil
}

// upload is a file received in a multipart request, in a temporary file.
type upload struct {
	path      string
	filename  string
	declared  string
	size      int64
	sha256    string
	kind      ccpor.DocumentKind
	redacted  bool
	sawFields map[string]bool // each field once: a second "file" must not slip past the checks
}

func (u *upload) remove() {
	if u.path != "" {
		os.Remove(u.path)
	}
}

// readUpload reads the multipart form part by part, never holding the
// file in memory: the part "file" goes to a temporary file, hashed as it
// streams, and is refused once it passes the cap. The fields "kind"
// (default signed_order) and "redacted" may come before or after it.
func (s *Server) readUpload(c *gin.Context) (*upload, error) {
	limit := s.maxDocumentBytes()
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit+multipartOverhead)
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, ccpor.Errorf(ccpor.EInvalid, "Send the document as multipart/form-data with the file in a part named \"file\".")
	}
	up := &upload{kind: ccpor.DocSignedOrder, sawFields: map[string]bool{}}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return up, tooLargeOr(err, limit, ccpor.Errorf(ccpor.EInvalid, "The multipart body could not be read: %v.", err))
		}
		name := part.FormName()
		if up.sawFields[name] {
			return up, ccpor.Errorf(ccpor.EInvalid, "The form field %q was sent twice.", name)
		}
		up.sawFields[name] = true
		switch name {
		case "file":
			if err := up.receive(part, part.FileName(), part.Header.Get("Content-Type"), limit); err != nil {
				return up, err
			}
		case "kind", "redacted":
			v, err := io.ReadAll(io.LimitReader(part, 64))
			if err != nil {
				return up, ccpor.Errorf(ccpor.EInvalid, "The form field %q could not be read.", name)
			}
			if err := up.setField(name, strings.TrimSpace(string(v))); err != nil {
				return up, err
			}
		default:
			return up, ccpor.Errorf(ccpor.EInvalid, "Unknown form field %q: send \"file\", and optionally \"kind\" and \"redacted\".", name)
		}
	}
	if up.path == "" {
		return up, ccpor.Errorf(ccpor.EInvalid, "No file: send the document in a part named \"file\".")
	}
	return up, nil
}

func (u *upload) setField(name, v string) error {
	switch name {
	case "kind":
		k := ccpor.DocumentKind(v)
		for _, known := range ccpor.DocumentKinds {
			if k == known {
				u.kind = k
				return nil
			}
		}
		return ccpor.Errorf(ccpor.EInvalid, "Unknown document kind %q: one of signed_order, proof_of_service, modification, other.", v)
	case "redacted":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return ccpor.Errorf(ccpor.EInvalid, "The field \"redacted\" must be true or false.")
		}
		u.redacted = b
	}
	return nil
}

// receive streams a file to a temporary file, hashing it. A file over the
// cap or empty is a *refusal; the temporary file is the caller's to
// remove either way.
func (u *upload) receive(r io.Reader, filename, declared string, limit int64) error {
	u.filename = safeFilename(filename)
	u.declared = declared
	f, err := os.CreateTemp("", "ccpor-upload-*")
	if err != nil {
		return fmt.Errorf("upload temp file: %w", err)
	}
	u.path = f.Name()
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, limit+1))
	if err != nil {
		return tooLargeOr(err, limit, ccpor.Errorf(ccpor.EInvalid, "The file could not be read: the upload was cut short."))
	}
	if n > limit {
		return tooLarge(limit)
	}
	if n == 0 {
		return &refusal{http.StatusUnprocessableEntity, "empty_file", "The file is empty."}
	}
	u.size, u.sha256 = n, hex.EncodeToString(h.Sum(nil))
	return f.Close()
}

func tooLarge(limit int64) error {
	return &refusal{http.StatusRequestEntityTooLarge, "document_too_large",
		fmt.Sprintf("The file is larger than this registry accepts (%s); scan at a lower resolution or in gray.", megabytes(limit))}
}

// tooLargeOr returns tooLarge when err is the request body's cap, else
// other.
func tooLargeOr(err error, limit int64, other error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(limit)
	}
	return other
}

func megabytes(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// safeFilename keeps the base name a client gave, without directories,
// control or format characters, at most 200 characters: it is shown, never
// used as a path or in a header.
func safeFilename(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "." || name == "/" {
		return ""
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name)
	if r := []rune(name); len(r) > 200 {
		name = string(r[:200])
	}
	return name
}

// missingTool names the program an ErrUnavailable error is about.
func missingTool(err error) string {
	msg := err.Error()
	for _, tool := range []string{"pdfinfo", "pdftoppm", "pdfdetach", "tesseract"} {
		if strings.Contains(msg, tool) {
			return tool
		}
	}
	return "a document tool"
}

// findViewable returns the document named in the route if the acting user
// may view it: ENotFound when they may not know its order exists,
// EForbidden when they may see the order but not this scan.
func (s *Server) findViewable(ctx context.Context, id string) (*ccpor.Document, error) {
	d, err := s.Documents.FindDocument(ctx, id)
	if err != nil {
		return nil, err
	}
	access, err := s.Orders.FindOrderAccess(ctx, []string{d.OrderID})
	if err != nil {
		return nil, err
	}
	a, ok := access[d.OrderID]
	u := ccpor.UserFromContext(ctx)
	if !ok || !u.MaySee(a) {
		return nil, ccpor.Errorf(ccpor.ENotFound, "Document %s not found.", id)
	}
	if !u.MayView(a, d) {
		return nil, ccpor.Errorf(ccpor.EForbidden, "%s", withheldMessage)
	}
	return d, nil
}

// extensions name a download by its type.
var extensions = map[string]string{scan.PDF: ".pdf", scan.TIFF: ".tif", scan.JPEG: ".jpg", scan.PNG: ".png"}

// handleDocumentDownload sends a document's bytes, audited before the
// first byte leaves. The headers keep a browser from reading it as
// anything else (nosniff) or running anything in it (a sandbox with no
// scripts); the file name is made here, never the uploader's.
func (s *Server) handleDocumentDownload(c *gin.Context) error {
	ctx := c.Request.Context()
	d, err := s.findViewable(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.Audit.Audit(ctx, "document.download", d.OrderID, gin.H{"document_id": d.ID, "sha256": d.SHA256}); err != nil {
		return err
	}
	disposition := "inline"
	if c.Query("download") != "" {
		disposition = "attachment"
	}
	h := c.Writer.Header()
	h.Set("Content-Type", d.MediaType)
	h.Set("Content-Length", strconv.FormatInt(d.Size, 10))
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{
		"filename": string(d.Kind) + "-" + d.ID + extensions[d.MediaType]}))
	setSandbox(h)
	h.Set("ETag", `"`+d.SHA256+`"`)
	c.Status(http.StatusOK)
	if err := s.Documents.CopyDocument(ctx, d.ID, c.Writer); err != nil {
		// The headers are gone; the client sees a short body.
		s.Logger.Error("document download cut short", "document", d.ID, "err", err)
	}
	return nil
}

// setSandbox sets the headers that keep a served file inert.
func setSandbox(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; plugin-types application/pdf")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("X-Frame-Options", "SAMEORIGIN")
}

// maxPageWidth is the widest page image served: a letter page at 300 dpi.
const maxPageWidth = 2550

// handleDocumentPage renders one page of a document as PNG, width pixels
// wide (?width=; thumbnails for the UI).
func (s *Server) handleDocumentPage(c *gin.Context) error {
	ctx := c.Request.Context()
	d, err := s.findViewable(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	page, err := strconv.Atoi(strings.TrimSuffix(c.Param("page"), ".png"))
	if err != nil || page < 1 || page > d.Pages {
		return ccpor.Errorf(ccpor.ENotFound, "Document %s has no page %s: it has %d.", d.ID, c.Param("page"), d.Pages)
	}
	width := 0
	if w := c.Query("width"); w != "" {
		if width, err = strconv.Atoi(w); err != nil || width < 16 || width > maxPageWidth {
			return ccpor.Errorf(ccpor.EInvalid, "width must be a number of pixels from 16 to %d.", maxPageWidth)
		}
	}
	if err := s.Audit.Audit(ctx, "document.page", d.OrderID, gin.H{"document_id": d.ID, "page": page}); err != nil {
		return err
	}
	path, err := s.documentFile(ctx, d)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	var png bytes.Buffer
	if err := s.Scan.RenderPage(ctx, path, d.MediaType, page, width, &png); err != nil {
		if errors.Is(err, scan.ErrUnavailable) {
			return ccpor.Errorf(ccpor.EUnavailable, "This server cannot render that kind of file: %s is not installed.", missingTool(err))
		}
		return fmt.Errorf("render page %d of %s: %w", page, d.ID, err)
	}
	h := c.Writer.Header()
	setSandbox(h)
	c.Data(http.StatusOK, "image/png", png.Bytes())
	return nil
}

// documentFile copies a document to a temporary file, for the programs
// that render and read it; the caller removes it.
func (s *Server) documentFile(ctx context.Context, d *ccpor.Document) (string, error) {
	f, err := os.CreateTemp("", "ccpor-doc-*"+extensions[d.MediaType])
	if err != nil {
		return "", err
	}
	if err := s.Documents.CopyDocument(ctx, d.ID, f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), f.Close()
}
