package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
	"github.com/gin-gonic/gin"
)

// maxIdempotencyKey caps the Idempotency-Key header; a UUID is 36.
const maxIdempotencyKey = 255

// IdempotencyStore keeps Idempotency-Keys and their answers; store.DB is
// one.
type IdempotencyStore interface {
	ClaimIdempotencyKey(ctx context.Context, userID int64, key string, fingerprint []byte) (*store.IdempotencyClaim, error)
	CompleteIdempotencyKey(ctx context.Context, userID int64, key, claim string, r store.IdempotentResponse) error
	ReleaseIdempotencyKey(ctx context.Context, userID int64, key, claim string) error
}

// replayedHeaders are the headers of an answer kept for replay; the rest
// are the transport's.
var replayedHeaders = []string{"Content-Type", "Location"}

// idempotent makes a POST safe to retry when it carries an Idempotency-Key
// header: the first request with a key does the work, and a retry of the
// same request by the same user within store.IdempotencyTTL gets the first
// answer again (status and body, with Idempotent-Replayed: true) without
// doing anything. The same key with another method, path or body is
// refused with 422. While the first request is still being answered a
// second one gets 409 with Retry-After, rather than waiting: it holds no
// connection, and its retry then replays the answer. Server errors (5xx)
// are not kept, so a retry after one does the work. Requests without the
// header pass through untouched.
func (s *Server) idempotent(c *gin.Context) {
	key := c.GetHeader("Idempotency-Key")
	u := ccpor.UserFromContext(c.Request.Context())
	if key == "" || u == nil {
		c.Next()
		return
	}
	if !validIdempotencyKey(key) {
		s.writeError(c, &ccpor.Error{Code: ccpor.EInvalid, Message: "The Idempotency-Key header is not valid.",
			Problems: []ccpor.FieldProblem{{Field: "Idempotency-Key", Detail: "use 1 to 255 visible ASCII characters, such as a UUID"}}})
		c.Abort()
		return
	}
	keys := s.Keys
	if keys == nil {
		s.writeError(c, ccpor.Errorf(ccpor.EInternal, "Internal error: no idempotency store."))
		c.Abort()
		return
	}
	// The body is read here to fingerprint it, then handed on unread. One
	// byte past the limit is enough for the handler to refuse it.
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxBodyBytes+1))
	if err != nil {
		s.writeError(c, ccpor.Errorf(ccpor.EInvalid, "The request body could not be read."))
		c.Abort()
		return
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	h := sha256.New()
	io.WriteString(h, c.Request.Method+" "+c.Request.URL.RequestURI()+"\n")
	h.Write(body)

	ctx := c.Request.Context()
	claim, err := keys.ClaimIdempotencyKey(ctx, u.ID, key, h.Sum(nil))
	if err != nil {
		s.writeError(c, err)
		c.Abort()
		return
	}
	switch claim.State {
	case store.IdempotencyDone:
		r := claim.Response
		for k, v := range r.Header {
			c.Writer.Header().Set(k, v)
		}
		c.Writer.Header().Set("Idempotent-Replayed", "true")
		c.Writer.WriteHeader(r.Status)
		c.Writer.Write(r.Body)
		c.Abort()
		return
	case store.IdempotencyBusy:
		c.Header("Retry-After", "1")
		s.writeError(c, ccpor.Errorf(ccpor.EConflict, "A request with this Idempotency-Key is in progress; retry."))
		c.Abort()
		return
	case store.IdempotencyMismatch:
		s.writeProblem(c, http.StatusUnprocessableEntity, "idempotency_key_reused",
			"This Idempotency-Key was used for another request; send a new key with a new request.", nil)
		c.Abort()
		return
	}

	// The answer is held back until it is kept, so that no client ever
	// sees an answer that a retry would not get again.
	w := &heldWriter{ResponseWriter: c.Writer, status: http.StatusOK}
	c.Writer = w
	// Writes outlive a client that hangs up: the work may already be done.
	after, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	answered := false
	defer func() {
		if !answered {
			// A panic: recover, outside, answers 500 on the real writer.
			c.Writer = w.ResponseWriter
			s.releaseKey(after, keys, u.ID, key, claim.Claim)
		}
	}()
	c.Next()
	answered = true
	c.Writer = w.ResponseWriter
	if w.status >= 500 {
		s.releaseKey(after, keys, u.ID, key, claim.Claim)
	} else {
		kept := store.IdempotentResponse{Status: w.status, Header: map[string]string{}, Body: w.body.Bytes()}
		for _, k := range replayedHeaders {
			if v := w.Header().Get(k); v != "" {
				kept.Header[k] = v
			}
		}
		if err := keys.CompleteIdempotencyKey(after, u.ID, key, claim.Claim, kept); err != nil {
			// The work is done and its answer stands; only a retry
			// would now do it again.
			s.Logger.Error("keep idempotent answer", "err", err)
		}
	}
	c.Writer.WriteHeader(w.status)
	c.Writer.Write(w.body.Bytes())
}

// releaseRetry is how often a release that failed is tried again.
const releaseRetry = 250 * time.Millisecond

// releaseKey gives up a claim whose request failed, so that a retry does
// the work. The failure is often the database's own — restarting, or out
// of connections — and then the release fails too; it is tried again in
// the background until it lands or the lease has run out, for otherwise
// every retry would be told "in progress" for the whole lease
// (store.IdempotencyLease) although nothing is.
func (s *Server) releaseKey(ctx context.Context, keys IdempotencyStore, userID int64, key, claim string) {
	err := keys.ReleaseIdempotencyKey(ctx, userID, key, claim)
	if err == nil {
		return
	}
	s.Logger.Warn("release idempotency key; retrying", "err", err)
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), store.IdempotencyLease)
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				s.Logger.Error("release idempotency key: given up; the key is free when its lease ends", "err", err)
				return
			case <-time.After(releaseRetry):
			}
			if err = keys.ReleaseIdempotencyKey(ctx, userID, key, claim); err == nil {
				return
			}
		}
	}()
}

func validIdempotencyKey(k string) bool {
	if len(k) > maxIdempotencyKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// heldWriter holds an answer back instead of sending it.
type heldWriter struct {
	gin.ResponseWriter
	status  int
	written bool
	body    bytes.Buffer
}

func (w *heldWriter) WriteHeader(code int) {
	if code > 0 && !w.written {
		w.status = code
	}
}

func (w *heldWriter) WriteHeaderNow() { w.written = true }

func (w *heldWriter) Write(b []byte) (int, error) {
	w.written = true
	return w.body.Write(b)
}

func (w *heldWriter) WriteString(s string) (int, error) {
	w.written = true
	return w.body.WriteString(s)
}

func (w *heldWriter) Status() int   { return w.status }
func (w *heldWriter) Size() int     { return w.body.Len() }
func (w *heldWriter) Written() bool { return w.written }

// Flush is a no-op: flushing would send what is being held back.
func (w *heldWriter) Flush() {}
