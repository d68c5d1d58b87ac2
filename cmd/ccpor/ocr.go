package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/ccpor/ccpor/store"
	"github.com/ccpor/ccpor/store/scan"
)

// ocrWorker reads the words on uploaded scans, one document at a time, in
// the background of a server: taking the oldest waiting document from the
// database (each node takes different ones), reading each page with
// tesseract and storing the text, which the index then makes searchable.
// A document whose reading fails is retried and then marked failed; it is
// never touched, and intake never waits for this.
type ocrWorker struct {
	db    *store.DB
	tools scan.Tools
	log   *slog.Logger
	// nudge tells the index follower that text was stored.
	nudge func()
	// poll is how often the queue is looked at when it was empty.
	poll time.Duration
}

// run reads documents until ctx ends.
func (w *ocrWorker) run(ctx context.Context) {
	if w.poll == 0 {
		w.poll = 2 * time.Second
	}
	for {
		worked, err := w.step(ctx)
		if err != nil && ctx.Err() == nil {
			w.log.Error("OCR", "err", err)
		}
		if worked && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(w.poll):
		}
	}
}

// step reads the next waiting document, if any, and reports whether there
// was one.
func (w *ocrWorker) step(ctx context.Context) (bool, error) {
	job, err := w.db.TakeOCRJob(ctx)
	if err != nil || job == nil {
		return false, err
	}
	d := job.Document
	start := time.Now()
	texts, err := w.read(ctx, job)
	if err != nil {
		if ctx.Err() != nil {
			// Shutting down: the lease runs out and another node, or this
			// one on restart, takes the document again.
			return true, nil
		}
		w.log.Warn("OCR failed", "document", d.ID, "attempt", job.Attempt, "err", err)
		return true, w.db.FailOCR(ctx, d.ID, err)
	}
	if err := w.db.FinishOCR(ctx, d.ID, texts); err != nil {
		return true, err
	}
	w.log.Info("OCR done", "document", d.ID, "pages", len(texts), "seconds", time.Since(start).Seconds())
	if w.nudge != nil {
		w.nudge()
	}
	return true, nil
}

func (w *ocrWorker) read(ctx context.Context, job *store.OCRJob) ([]string, error) {
	d := job.Document
	f, err := os.CreateTemp("", "ccpor-ocr-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if err := w.db.CopyDocument(ctx, d.ID, f); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	texts := make([]string, d.Pages)
	for page := 1; page <= d.Pages; page++ {
		if texts[page-1], err = w.tools.OCRPage(ctx, f.Name(), d.MediaType, page); err != nil {
			return nil, fmt.Errorf("page %d: %w", page, err)
		}
	}
	return texts, nil
}

// OCRCommand manages the reading of scans: `ccpor ocr retry` puts the
// documents whose reading failed back in the queue; `ccpor ocr status`
// says whether this machine can read scans.
type OCRCommand struct {
	Stdout, Stderr io.Writer
	db             dbFlags
}

// Run runs the subcommand in args[0].
func (c *OCRCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "retry" && args[0] != "status") {
		return errors.New("usage: ccpor ocr retry|status [flags]")
	}
	tools := scan.FindTools()
	if args[0] == "status" {
		if tools.OCR() {
			fmt.Fprintf(c.Stdout, "OCR on: %s\n", tools.Tesseract)
		} else {
			fmt.Fprintln(c.Stdout, "OCR off: tesseract-ocr is not installed (apt-get install tesseract-ocr)")
		}
		return nil
	}
	fs := newFlagSet("ocr retry", "ocr retry [flags]", c.Stderr)
	c.db.register(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	db, err := c.db.open(ctx, slog.New(slog.NewTextHandler(c.Stderr, nil)))
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := db.RetryOCR(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "%d documents queued for OCR again\n", n)
	return nil
}
