package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/fixtures"
	"github.com/ccpor/ccpor/store"
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
	return inserted, nil
}
