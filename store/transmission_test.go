package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
	"github.com/google/go-cmp/cmp"
)

// transmissionsOf returns the messages about an order, oldest first.
func transmissionsOf(tb testing.TB, db *store.DB, orderID string) []*ccpor.Transmission {
	tb.Helper()
	ms, err := db.FindTransmissions(context.Background(), store.TransmissionFilter{OrderID: orderID})
	if err != nil {
		tb.Fatal(err)
	}
	return ms
}

// TestTransmissionEnqueue: every intake and every change of an order
// queues a message for law enforcement in its own transaction; a bulk
// import queues none, and a refused intake leaves none behind.
func TestTransmissionEnqueue(t *testing.T) {
	ctx := context.Background()
	db := mustDB(t)
	o := mustOrder(t, "25FL200001")
	o.Sealed = true // law enforcement enforces sealed orders too
	if err := db.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"modify", "renew", "service", "terminate"} {
		if action == "modify" {
			o.Terms.MoveOut = true
		}
		if err := db.UpdateOrder(ctx, o, action, "test"); err != nil {
			t.Fatal(err)
		}
	}
	ms := transmissionsOf(t, db, o.ID)
	var got []string
	for _, m := range ms {
		got = append(got, string(m.Action))
		if m.State != ccpor.TransmissionPending || m.County != "Alameda" || m.Attempts != 0 || !m.CreatedAt.Equal(now) {
			t.Errorf("message %d: %+v", m.OrderVersion, m)
		}
		// Monday 2 March 2026, 9 am in California: due by the end of Tuesday.
		if m.DueOn != ccpor.NewDate(2026, time.March, 3) {
			t.Errorf("message %d due %s, want 2026-03-03", m.OrderVersion, m.DueOn)
		}
	}
	if want := []string{"enter", "modify", "renew", "service", "terminate"}; !cmp.Equal(got, want) {
		t.Errorf("actions %v, want %v", got, want)
	}

	type payload struct {
		Format       string
		MessageID    string `json:"message_id"`
		Action       string
		OrderID      string `json:"order_id"`
		OrderVersion int    `json:"order_version"`
		DueOn        string `json:"due_on"`
		NCIC         ccpor.NCICMessage
		Order        ccpor.Order
	}
	payloadOf := func(id string) payload {
		t.Helper()
		m, err := db.FindTransmission(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var p payload
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			t.Fatalf("payload %s: %v", m.Payload, err)
		}
		return p
	}
	p := payloadOf(ms[0].ID)
	if p.Format != ccpor.NCICFormat || p.MessageID != ms[0].ID || p.Action != "enter" ||
		p.OrderID != o.ID || p.OrderVersion != 1 || p.DueOn != "2026-03-03" ||
		p.Order.ID != o.ID || p.Order.CaseNumber != "25FL200001" || !p.Order.Sealed {
		t.Errorf("payload %+v", p)
	}
	// The NCIC-modelled message: the court, the subject's descriptors, the
	// condition codes, and the Brady indicator computed from the law (an
	// after-hearing order protecting a spouse with a conduct order), where
	// the order carries U, as Prepare filled it.
	n := p.NCIC
	if n.CourtORI != "CA0010000" || !n.CourtORIPlaceholder || n.CaseNumber != "25FL200001" || n.Form != "DV-130" ||
		n.IssuedOn != ccpor.NewDate(2025, time.June, 3) || n.ExpiresAt != ccpor.NewDate(2028, time.June, 3) || n.NonExpiring ||
		n.Subject.Last != "García López" || n.Subject.Sex != "M" || n.Subject.Race != "H" ||
		len(n.Protected) != 1 || n.Protected[0].First != "Ana" || n.Protected[0].Relationship != "spouse" ||
		n.Brady != ccpor.BradyYes || p.Order.Brady != ccpor.BradyUnknown || n.Service.Status != ccpor.ServiceUnknown {
		t.Errorf("ncic %+v", n)
	}
	if got, want := n.Conditions, []string{"01", "04", "05", "07"}; !cmp.Equal(got, want) {
		t.Errorf("entry conditions %v, want %v", got, want)
	}
	// Each message has the version it tells of: the modification added a
	// move-out order (03).
	if got, want := payloadOf(ms[1].ID).NCIC.Conditions, []string{"01", "03", "04", "05", "07"}; !cmp.Equal(got, want) {
		t.Errorf("modification conditions %v, want %v", got, want)
	}

	// Intake refused as a duplicate: nothing stored, nothing queued.
	dup := mustOrder(t, "25FL200001")
	dup.Sealed = true
	if err := db.CreateOrder(ctx, dup); ccpor.ErrorCode(err) != ccpor.EConflict {
		t.Fatalf("duplicate intake: %v", err)
	}
	// A stale change: refused, nothing queued.
	stale := *o
	stale.Version--
	if err := db.UpdateOrder(ctx, &stale, "modify", "stale"); ccpor.ErrorCode(err) != ccpor.EConflict {
		t.Fatalf("stale change: %v", err)
	}
	imported := mustOrder(t, "25FL200002")
	imported.ID = "7e1c2a4e-0000-4000-8000-000000000010"
	if _, err := db.InsertOrders(ctx, []*ccpor.Order{imported}, "import", "test"); err != nil {
		t.Fatal(err)
	}
	all, err := db.FindTransmissions(ctx, store.TransmissionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 {
		t.Errorf("%d messages in all, want the 5 of the entered order: a refused write or an import queued one", len(all))
	}
}

// TestTransmissionClaim: transmitters take due messages under a lease, one
// version of an order at a time and in order; a failure puts a message
// off by a growing wait; a transmitter whose lease ran out cannot mark
// the message it lost.
func TestTransmissionClaim(t *testing.T) {
	ctx := context.Background()
	db := mustDB(t)
	clock := now.Add(-3 * time.Second)
	db.Now = func() time.Time { return clock }
	a := mustOrder(t, "25FL300001")
	b := mustOrder(t, "25FL300002")
	b.Restrained.Last = "Other"
	for _, o := range []*ccpor.Order{a, b} {
		if err := db.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Second)
	}
	if err := db.UpdateOrder(ctx, a, "modify", "test"); err != nil {
		t.Fatal(err)
	}
	clock = now
	claim := func(want ...string) []*ccpor.Transmission {
		t.Helper()
		ms, err := db.ClaimTransmissions(ctx, 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range ms {
			got = append(got, m.OrderID+"/"+string(m.Action))
			if len(m.Payload) == 0 {
				t.Errorf("claimed %s without its payload", m.ID)
			}
		}
		if !cmp.Equal(got, want) {
			t.Fatalf("at +%s claimed %v, want %v", clock.Sub(now), got, want)
		}
		return ms
	}
	first := claim(a.ID+"/enter", b.ID+"/enter") // not a's modification: its entry waits
	aEnter, bEnter := first[0], first[1]
	claim() // leased
	if err := db.FailTransmission(ctx, aEnter, errors.New("gateway down")); err != nil {
		t.Fatal(err)
	}
	clock = now.Add(10 * time.Second)
	claim() // a waits 15 s after its first failure, b is leased for a minute
	clock = now.Add(20 * time.Second)
	again := claim(a.ID + "/enter")[0]
	if again.Attempts != 2 || again.LastError != "gateway down" {
		t.Errorf("second attempt %+v", again)
	}
	if ok, err := db.MarkTransmissionSent(ctx, aEnter); err != nil || ok {
		t.Errorf("the first attempt's holder marked it sent: %v %v", ok, err)
	}
	if ok, err := db.MarkTransmissionSent(ctx, again); err != nil || !ok {
		t.Fatalf("mark sent: %v %v", ok, err)
	}
	claim(a.ID + "/modify")
	// b's transmitter died: its lease runs out and b is taken again.
	clock = now.Add(61 * time.Second)
	bAgain := claim(b.ID + "/enter")[0]
	if ok, _ := db.MarkTransmissionSent(ctx, bEnter); ok {
		t.Error("a transmitter whose lease ran out marked the message sent")
	}
	if ok, _ := db.MarkTransmissionSent(ctx, bAgain); !ok {
		t.Error("the new holder could not mark the message sent")
	}
	m, err := db.FindTransmission(ctx, again.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.State != ccpor.TransmissionSent || m.SentAt == nil || !m.SentAt.Equal(now.Add(20*time.Second)) || m.LastError != "" {
		t.Errorf("sent message %+v", m)
	}

	for _, tt := range []struct {
		attempts int
		want     time.Duration
	}{{1, 15 * time.Second}, {2, 30 * time.Second}, {5, 240 * time.Second}, {8, 1920 * time.Second}, {9, time.Hour}, {1000, time.Hour}} {
		if got := store.TransmissionBackoff(tt.attempts); got != tt.want {
			t.Errorf("backoff after %d attempts = %s, want %s", tt.attempts, got, tt.want)
		}
	}
}

// TestTransmissionClaimConcurrent: transmitters claiming at once take
// every message once between them.
func TestTransmissionClaimConcurrent(t *testing.T) {
	ctx := context.Background()
	db := mustDB(t)
	var want []string
	for i := range 30 {
		o := mustOrder(t, fmt.Sprintf("25FL4%05d", i))
		o.Restrained.Last += fmt.Sprintf(" Test%d", i)
		if err := db.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
		want = append(want, o.ID)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				ms, err := db.ClaimTransmissions(ctx, 3, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ms) == 0 {
					return
				}
				mu.Lock()
				for _, m := range ms {
					seen[m.OrderID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, id := range want {
		if seen[id] != 1 {
			t.Errorf("order %s claimed %d times", id, seen[id])
		}
	}
}

// TestTransmissionAnswer: law enforcement's answers, from the transport or
// an operator, and the ones that contradict what is recorded.
func TestTransmissionAnswer(t *testing.T) {
	ctx := context.Background()
	db := mustDB(t)
	o := mustOrder(t, "25FL500001")
	if err := db.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateOrder(ctx, o, "modify", "test"); err != nil {
		t.Fatal(err)
	}
	ms := transmissionsOf(t, db, o.ID)
	enter, modify := ms[0].ID, ms[1].ID
	answer := func(id string, accepted bool, reason string, wantChanged bool, wantCode string) {
		t.Helper()
		changed, err := db.AnswerTransmission(ctx, id, accepted, reason)
		if ccpor.ErrorCode(err) != wantCode || changed != wantChanged {
			t.Errorf("answer %s accepted=%v: changed %v, %v; want changed %v, code %q", id, accepted, changed, err, wantChanged, wantCode)
		}
	}
	// Answered while still pending: delivered, not yet marked.
	answer(enter, true, "", true, "")
	answer(enter, true, "", false, "")
	answer(enter, false, "too late", false, ccpor.EConflict)
	answer(modify, false, "  missing race of the restrained person\n", true, "")
	answer(modify, false, "again", false, "")
	m, err := db.FindTransmission(ctx, modify)
	if err != nil {
		t.Fatal(err)
	}
	if m.State != ccpor.TransmissionRejected || m.LastError != "missing race of the restrained person" || m.AcknowledgedAt == nil || m.SentAt == nil {
		t.Errorf("rejected message %+v", m)
	}
	// Put right by hand, then acknowledged.
	answer(modify, true, "", true, "")
	answer("7e1c2a4e-0000-4000-8000-00000000ffff", true, "", false, ccpor.ENotFound)
	answer("not-an-id", false, "x", false, ccpor.ENotFound)
	if ms, err := db.ClaimTransmissions(ctx, 10, time.Minute); err != nil || len(ms) != 0 {
		t.Errorf("answered messages were claimed: %d, %v", len(ms), err)
	}
}

// TestOverdueTransmissions: a county's messages law enforcement has not
// acknowledged, due today or earlier, longest due first; not another
// county's, not acknowledged ones, not those due later.
func TestOverdueTransmissions(t *testing.T) {
	ctx := context.Background()
	db := mustDB(t)
	enter := func(caseNumber, county string, at time.Time) *ccpor.Transmission {
		t.Helper()
		db.Now = func() time.Time { return at }
		o := mustOrder(t, caseNumber)
		o.County = county
		if err := db.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
		return transmissionsOf(t, db, o.ID)[0]
	}
	// Thursday 26 February 2026 → due Friday 27; Friday 27 → due Monday 2
	// March; Monday 2 → due Tuesday 3.
	thu := enter("25FL600001", "Alameda", time.Date(2026, time.February, 26, 18, 0, 0, 0, time.UTC))
	fri := enter("25FL600002", "Alameda", time.Date(2026, time.February, 27, 18, 0, 0, 0, time.UTC))
	mon := enter("25FL600003", "Alameda", time.Date(2026, time.March, 2, 18, 0, 0, 0, time.UTC))
	acked := enter("25FL600004", "Alameda", time.Date(2026, time.February, 26, 19, 0, 0, 0, time.UTC))
	fresno := enter("25FL600005", "Fresno", time.Date(2026, time.February, 26, 18, 30, 0, 0, time.UTC))
	db.Now = func() time.Time { return now }
	if fri.DueOn != ccpor.NewDate(2026, time.March, 2) {
		t.Errorf("entered on a Friday, due %s, want the Monday after", fri.DueOn)
	}
	if _, err := db.AnswerTransmission(ctx, acked.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AnswerTransmission(ctx, thu.ID, false, "unreadable"); err != nil {
		t.Fatal(err)
	}
	today := ccpor.NewDate(2026, time.March, 2)
	ms, err := db.OverdueTransmissions(ctx, "Alameda", today, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.ID)
		if m.Order == nil || m.Order.ID != m.OrderID || m.Order.CaseNumber == "" {
			t.Errorf("message %s without its order: %+v", m.ID, m.Order)
		}
	}
	if want := []string{thu.ID, fri.ID}; !cmp.Equal(got, want) {
		t.Errorf("overdue on %s = %v, want the rejected Thursday one and Friday's (due today): %v", today, got, want)
	}
	if !ms[0].OverdueOn(today) || ms[1].OverdueOn(today) {
		t.Error("Thursday's should read overdue, Friday's due today")
	}
	_ = mon
	for _, tt := range []struct {
		name string
		f    store.TransmissionFilter
		want []string
	}{
		{"county", store.TransmissionFilter{County: "Fresno"}, []string{fresno.ID}},
		{"state", store.TransmissionFilter{State: ccpor.TransmissionAcknowledged}, []string{acked.ID}},
		{"due by", store.TransmissionFilter{DueBy: today.AddDays(1)}, []string{thu.ID, fresno.ID, fri.ID, mon.ID}},
		{"due by, county", store.TransmissionFilter{DueBy: today, County: "Alameda"}, []string{thu.ID, fri.ID}},
		{"limit", store.TransmissionFilter{Limit: 1}, []string{thu.ID}},
	} {
		ms, err := db.FindTransmissions(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range ms {
			got = append(got, m.ID)
		}
		if !cmp.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	if _, err := db.FindTransmissions(ctx, store.TransmissionFilter{State: "lost"}); ccpor.ErrorCode(err) != ccpor.EInvalid {
		t.Errorf("unknown state: %v", err)
	}
}
