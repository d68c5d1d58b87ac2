package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/fixtures"
	"github.com/ccpor/ccpor/store"
	"github.com/jackc/pgx/v5"
)

// SeedCommand adds synthetic demo orders. The generator is deterministic
// and order IDs derive from the seed, so seeding twice adds nothing.
type SeedCommand struct {
	Stdout, Stderr io.Writer
}

// Run parses flags and seeds.
func (c *SeedCommand) Run(ctx context.Context, args []string) error {
	var db dbFlags
	var n int
	var seedValue int64
	fs := newFlagSet("seed", "seed --orders N [--seed S] [flags]", c.Stderr)
	fs.IntVar(&n, "orders", 20000, "how many synthetic orders to generate")
	fs.Int64Var(&seedValue, "seed", 1, "generator seed: the same seed gives the same orders")
	db.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := db.open(ctx, slog.New(slog.NewTextHandler(c.Stderr, nil)))
	if err != nil {
		return err
	}
	defer d.Close()
	p := newProgress(c.Stderr, "seed", int64(n))
	inserted, err := seed(ctx, d, seedValue, n, func(done int) { p.set(int64(done), int64(done)) })
	p.done()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "generated %d orders, %d new\n", n, inserted)
	return nil
}

// seedBatch is how many orders go to Postgres in one COPY.
const seedBatch = 5000

// seed generates n orders from seedValue and stores them in batches,
// reporting progress after each batch.
func seed(ctx context.Context, db *store.DB, seedValue int64, n int, progress func(done int)) (int, error) {
	g := fixtures.New(seedValue, time.Now())
	inserted := 0
	batch := make([]*ccpor.Order, 0, seedBatch)
	for done := 0; done < n; {
		batch = batch[:0]
		for ; len(batch) < seedBatch && done < n; done++ {
			o, _ := g.Next()
			batch = append(batch, o)
		}
		k, err := db.InsertOrders(ctx, batch, "seed", "ccpor seed")
		if err != nil {
			return inserted, err
		}
		inserted += k
		if progress != nil {
			progress(done)
		}
	}
	if inserted > 0 {
		return inserted, db.AnalyzeOrders(ctx)
	}
	return inserted, nil
}

// seedScans gives up to n demo orders without documents a generated scan
// of the signed order (fixtures.OrderScan: the order's data on a form, a
// handwritten special condition), as a PDF when this machine can check
// PDFs and a PNG otherwise, so that the viewer and OCR have something real
// to show. It returns how many it added.
func seedScans(ctx context.Context, db *store.DB, n int, pdf bool) (int, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT o.id::text FROM orders o
		WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.order_id = o.id)
		ORDER BY o.created_at, o.id LIMIT $1`, n)
	if err != nil {
		return 0, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, err
	}
	orders, err := db.FindOrdersByIDs(ctx, ids)
	if err != nil {
		return 0, err
	}
	added := 0
	for i, o := range orders {
		if ctx.Err() != nil {
			return added, ctx.Err()
		}
		page := fixtures.OrderScan(o, fixtures.ScanOptions{Seed: int64(i)})
		var buf bytes.Buffer
		// The generated form never prints a confidential minor's name nor
		// anyone's address: it is a redacted copy by construction.
		d := &ccpor.Document{OrderID: o.ID, Kind: ccpor.DocSignedOrder, Pages: 1, Redacted: true,
			Width: page.Bounds().Dx(), Height: page.Bounds().Dy()}
		if pdf {
			d.MediaType, d.Filename, d.Width, d.Height = "application/pdf", "signed-order.pdf", 0, 0
			err = fixtures.WriteScanPDF(&buf, []*image.Gray{page}, 200)
		} else {
			d.MediaType, d.Filename = "image/png", "signed-order.png"
			err = png.Encode(&buf, page)
		}
		if err != nil {
			return added, err
		}
		sum := sha256.Sum256(buf.Bytes())
		d.Size, d.SHA256 = int64(buf.Len()), hex.EncodeToString(sum[:])
		if _, err := db.CreateDocument(ctx, d, &buf); err != nil {
			return added, err
		}
		added++
	}
	return added, nil
}
