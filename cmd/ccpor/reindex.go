package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ccpor/ccpor/index"
	"github.com/ccpor/ccpor/store"
)

// ReindexCommand rebuilds the search index from PostgreSQL into a new
// generation and swaps it in; a running server switches to it by itself.
type ReindexCommand struct {
	Stdout, Stderr io.Writer
	db             dbFlags
}

// Run parses flags and rebuilds.
func (c *ReindexCommand) Run(ctx context.Context, args []string) error {
	var dir string
	fs := newFlagSet("reindex", "reindex [--index-dir DIR] [flags]", c.Stderr)
	fs.StringVar(&dir, "index-dir", ".data/index", "directory of the search index")
	c.db.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := c.db.open(ctx, slog.New(slog.NewTextHandler(c.Stderr, nil)))
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	n, err := rebuild(ctx, db, dir, c.Stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "indexed %d orders in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}

func rebuild(ctx context.Context, db *store.DB, dir string, report io.Writer) (int, error) {
	var total int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM orders`).Scan(&total); err != nil {
		return 0, err
	}
	p := newProgress(report, "reindex", int64(total))
	n, err := index.Rebuild(ctx, dir, db, func(n int) { p.set(int64(n), int64(n)) })
	p.done()
	return n, err
}
