package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
)

// TestQueueServed: whether an order is served is kept on the head row by
// every write path — intake, bulk import and a change — so the unserved
// queue finds exactly the orders without service.
func TestQueueServed(t *testing.T) {
	ctx := context.Background()
	db := mustDB(t)
	today := ccpor.DateOf(now)
	served := mustOrder(t, "25FL100001")
	servedAt := now.Add(-time.Hour)
	served.Service = ccpor.Service{Status: ccpor.ServedPersonal, ServedAt: &servedAt}
	unserved := mustOrder(t, "25FL100002")
	unserved.Service = ccpor.Service{Status: ccpor.NotServed}
	imported := mustOrder(t, "25FL100003")
	imported.ID = "7e1c2a4e-0000-4000-8000-000000000003"
	imported.Service = ccpor.Service{Status: ccpor.ServiceUnknown}
	importedServed := mustOrder(t, "25FL100004")
	importedServed.ID = "7e1c2a4e-0000-4000-8000-000000000004"
	importedServed.Service = ccpor.Service{Status: ccpor.ServedInCourt, ServedAt: &servedAt}
	for _, o := range []*ccpor.Order{served, unserved} {
		if err := db.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.InsertOrders(ctx, []*ccpor.Order{imported, importedServed}, "import", "test"); err != nil {
		t.Fatal(err)
	}
	queue := func() map[string]bool {
		orders, err := db.QueueOrders(ctx, store.QueueUnserved, "Alameda", today, 10)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, o := range orders {
			ids[o.ID] = true
		}
		return ids
	}
	if got := queue(); len(got) != 2 || !got[unserved.ID] || !got[imported.ID] {
		t.Errorf("unserved queue = %v, want %s and %s", got, unserved.ID, imported.ID)
	}
	// Serving it takes it off the queue.
	unserved.Service = ccpor.Service{Status: ccpor.ServedVerbal, ServedAt: &servedAt, ServedBy: "Ofc. Reyes", Location: "Main St"}
	if err := db.UpdateOrder(ctx, unserved, "service", "verbal notice"); err != nil {
		t.Fatal(err)
	}
	if got := queue(); len(got) != 1 || !got[imported.ID] {
		t.Errorf("after service, unserved queue = %v, want only %s", got, imported.ID)
	}
	if _, err := db.QueueOrders(ctx, store.Queue("nope"), "", today, 10); ccpor.ErrorCode(err) != ccpor.EInvalid {
		t.Errorf("unknown queue: %v", err)
	}
}
