package api

import (
	"context"
	"net/http"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
	"github.com/gin-gonic/gin"
)

// Queues finds the orders of a court that need a clerk to act; store.DB
// is one.
type Queues interface {
	QueueOrders(ctx context.Context, q store.Queue, county string, today ccpor.Date, limit int) ([]*ccpor.Order, error)
	// OverdueTransmissions returns messages to law enforcement about the
	// county's orders, not acknowledged and due by today, each with its
	// order.
	OverdueTransmissions(ctx context.Context, county string, today ccpor.Date, limit int) ([]*ccpor.Transmission, error)
}

// queueLimit is how many orders a queue shows at once: the oldest first,
// worked down.
const queueLimit = 50

// queueView is one queue on the page.
type queueView struct {
	Name, Title, Why string
	Orders           []*ccpor.Order
	More             bool
}

var queueTitles = map[store.Queue][2]string{
	store.QueueHearingPassed: {"Temporary orders past their hearing date",
		"The hearing date passed in the last 180 days and no order after hearing (or dismissal) is recorded: record the outcome, or the order reads as expired."},
	store.QueueUnserved: {"Orders in effect without proof of service",
		"No service or notice is recorded: an officer who meets the restrained person must serve them or give notice (FC 6383). Soonest to lapse first: a temporary order must be served before its hearing."},
	store.QueueRenewal: {"Orders in the renewal window",
		"Orders after hearing expiring within 90 days with no renewal recorded (FC 6345(a): renewal may be asked in the three months before expiry)."},
}

// transmissionView is the first queue on the page: messages to law
// enforcement it has not acknowledged, due today or overdue.
type transmissionView struct {
	Messages []*ccpor.Transmission
	More     bool
}

// registerQueuePages adds the clerk's work queues.
func (s *Server) registerQueuePages(ui *gin.RouterGroup) {
	ui.GET("/queues", s.page(s.handleQueuesPage))
}

// handleQueuesPage shows the work queues of the clerk's court: their
// county's orders (an admin, or a clerk without a county, picks one).
func (s *Server) handleQueuesPage(c *gin.Context) error {
	ctx := c.Request.Context()
	u := ccpor.UserFromContext(ctx)
	county := u.County
	if county == "" {
		if q := c.Query("county"); q != "" {
			var ok bool
			if county, ok = ccpor.CanonicalCounty(q); !ok {
				return ccpor.Errorf(ccpor.EInvalid, "%q is not a California county.", q)
			}
		}
	}
	data := gin.H{"County": county, "Fixed": u.County != "", "Counties": ccpor.Counties}
	if county == "" {
		s.render(c, http.StatusOK, "queues", "Work queues", data)
		return nil
	}
	if s.Queues == nil {
		return ccpor.Errorf(ccpor.EUnavailable, "Work queues are not available on this server.")
	}
	today := ccpor.DateOf(s.Now())
	var views []queueView
	var shown []string
	// First: an order protects no one until law enforcement has it
	// (FC 6380: within one business day).
	msgs, err := s.Queues.OverdueTransmissions(ctx, county, today, queueLimit+1)
	if err != nil {
		return err
	}
	var tv transmissionView
	for _, m := range msgs {
		if !u.MaySee(ccpor.AccessOf(m.Order)) {
			continue
		}
		if len(tv.Messages) == queueLimit {
			tv.More = true
			break
		}
		u.Redact(m.Order)
		tv.Messages = append(tv.Messages, m)
		shown = append(shown, m.OrderID)
	}
	for _, q := range store.Queues {
		// One more than shown says whether there are more.
		orders, err := s.Queues.QueueOrders(ctx, q, county, today, queueLimit+1)
		if err != nil {
			return err
		}
		visible, _ := visibleOrders(ctx, orders)
		v := queueView{Name: string(q), Title: queueTitles[q][0], Why: queueTitles[q][1]}
		if len(visible) > queueLimit {
			visible, v.More = visible[:queueLimit], true
		}
		for _, o := range visible {
			u.Redact(o)
			shown = append(shown, o.ID)
		}
		v.Orders = visible
		views = append(views, v)
	}
	if err := s.auditReturned(ctx, "queue.read", shown, gin.H{"county": county}); err != nil {
		return err
	}
	data["Queues"] = views
	data["Transmissions"] = tv
	data["Today"] = today
	s.render(c, http.StatusOK, "queues", "Work queues · "+county+" County", data)
	return nil
}
