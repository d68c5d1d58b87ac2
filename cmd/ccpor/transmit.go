package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
)

// Transport delivers messages to law enforcement (CLETS, or a system that
// relays to it).
//
// Exactly once rests on Send being idempotent by message: a transmitter
// marks a message sent only after Send returned nil, so a transmitter that
// dies between the two leaves the message pending, and the next one to
// take it sends it again. Send must then find it already delivered and
// return nil without delivering it a second time.
type Transport interface {
	// Send delivers msg: msg.ID names it, msg.Payload is its body.
	Send(ctx context.Context, msg *ccpor.Transmission) error
}

// Answer is law enforcement's answer to one message.
type Answer struct {
	ID       string // the message's
	Accepted bool
	Reason   string // why it was rejected
	// ref is the transport's handle on the answer, for Settle.
	ref string
}

// Answerer is a transport over which law enforcement answers messages.
type Answerer interface {
	// Answers returns the answers waiting to be recorded.
	Answers(ctx context.Context) ([]Answer, error)
	// Settle is called once an answer is recorded (or found to answer no
	// message), so that Answers does not return it again.
	Settle(a Answer) error
}

// transmitter sends the law-enforcement transmission queue through a
// transport, in the background of a server. Several nodes may run one on
// the same queue: each takes different messages, with a lease.
type transmitter struct {
	db        *store.DB
	transport Transport
	log       *slog.Logger
	// poll is how often the queue is looked at when it was empty.
	poll time.Duration
	// lease is how long a message taken stays this transmitter's: long
	// enough to send a batch, short enough that a node that died holds
	// nothing back for long.
	lease time.Duration
	// batch is how many messages are taken at once.
	batch int
}

func (t *transmitter) defaults() {
	if t.poll == 0 {
		t.poll = 5 * time.Second
	}
	if t.lease == 0 {
		t.lease = 5 * time.Minute
	}
	if t.batch == 0 {
		t.batch = 20
	}
}

// run sends messages and records answers until ctx ends.
func (t *transmitter) run(ctx context.Context) {
	t.defaults()
	for {
		worked, err := t.step(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			t.log.Error("law-enforcement transmission", "err", err)
		}
		if worked && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(t.poll):
		}
	}
}

// step records the answers that arrived, then sends one batch of due
// messages, and reports whether there was a message to send.
func (t *transmitter) step(ctx context.Context) (bool, error) {
	t.defaults()
	if a, ok := t.transport.(Answerer); ok {
		if err := t.answer(ctx, a); err != nil {
			return false, err
		}
	}
	msgs, err := t.db.ClaimTransmissions(ctx, t.batch, t.lease)
	if err != nil || len(msgs) == 0 {
		return false, err
	}
	for _, m := range msgs {
		err := t.transport.Send(ctx, m)
		if ctx.Err() != nil {
			// Shutting down: whatever Send did, the lease runs out and the
			// message is taken again, and found delivered if it was.
			return true, ctx.Err()
		}
		if err != nil {
			t.log.Warn("law-enforcement transmission failed", "message", m.ID, "order", m.OrderID,
				"attempt", m.Attempts, "retry_in", store.TransmissionBackoff(m.Attempts).String(), "err", err)
			if err := t.db.FailTransmission(ctx, m, err); err != nil {
				return true, err
			}
			continue
		}
		marked, err := t.db.MarkTransmissionSent(ctx, m)
		if err != nil {
			return true, err
		}
		if !marked {
			t.log.Info("law-enforcement transmission sent after its lease ran out or an answer came", "message", m.ID)
		}
	}
	return true, nil
}

// answer records the answers waiting on the transport.
func (t *transmitter) answer(ctx context.Context, a Answerer) error {
	answers, err := a.Answers(ctx)
	if err != nil {
		return fmt.Errorf("read answers: %w", err)
	}
	for _, ans := range answers {
		_, err := t.db.AnswerTransmission(ctx, ans.ID, ans.Accepted, ans.Reason)
		switch ccpor.ErrorCode(err) {
		case "":
			if !ans.Accepted {
				t.log.Warn("law enforcement rejected a message", "message", ans.ID, "reason", ans.Reason)
			}
		case ccpor.ENotFound, ccpor.EConflict:
			// Kept aside, never retried: it answers no message of ours, or
			// contradicts the answer recorded.
			t.log.Warn("law-enforcement answer set aside", "message", ans.ID, "accepted", ans.Accepted, "err", err)
		default:
			return err
		}
		if err := a.Settle(ans); err != nil {
			return err
		}
	}
	return nil
}

const transmitUsage = `Usage:
  ccpor transmit list [--state S] [--county C] [--order ID] [--overdue] [--limit N]
  ccpor transmit ack ID                  law enforcement has the message
  ccpor transmit reject ID --reason R    law enforcement refused it, and why
`

// TransmitCommand lets operators read the law-enforcement transmission
// queue and record answers that came by another way than the transport
// (a telephone call, a CLETS terminal). What it does is audited as done by
// the operating-system user.
type TransmitCommand struct {
	Stdout, Stderr io.Writer
	db             dbFlags
	// now is today's instant; time.Now when nil (tests fix it).
	now func() time.Time
}

// Run dispatches the transmit subcommand.
func (c *TransmitCommand) Run(ctx context.Context, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "list":
			return c.list(ctx, args[1:])
		case "ack":
			return c.answer(ctx, args[1:], true)
		case "reject":
			return c.answer(ctx, args[1:], false)
		}
	}
	fmt.Fprint(c.Stderr, transmitUsage)
	return errors.New("unknown transmit command")
}

func (c *TransmitCommand) open(ctx context.Context) (*store.DB, error) {
	db, err := c.db.open(ctx, slog.New(slog.NewTextHandler(c.Stderr, nil)))
	if err == nil && c.now != nil {
		db.Now = c.now
	}
	return db, err
}

func (c *TransmitCommand) list(ctx context.Context, args []string) error {
	var f store.TransmissionFilter
	var state, county string
	var overdue bool
	fs := newFlagSet("transmit list", "transmit list [--state S] [--county C] [--order ID] [--overdue] [--limit N] [flags]", c.Stderr)
	fs.StringVar(&state, "state", "", "only messages in this state: pending, sent, acknowledged, rejected")
	fs.StringVar(&county, "county", "", "only messages about orders of this county")
	fs.StringVar(&f.OrderID, "order", "", "only messages about this order")
	fs.BoolVar(&overdue, "overdue", false, "only messages law enforcement has not acknowledged, due today or earlier")
	fs.IntVar(&f.Limit, "limit", 100, "at most this many messages, the longest due first")
	c.db.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	f.State = ccpor.TransmissionState(state)
	if county != "" {
		var ok bool
		if f.County, ok = ccpor.CanonicalCounty(county); !ok {
			return fmt.Errorf("%q is not a California county", county)
		}
	}
	db, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if overdue {
		f.DueBy = ccpor.DateOf(db.Now())
	}
	msgs, err := db.FindTransmissions(ctx, f)
	if err != nil {
		return err
	}
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.OrderID
	}
	if err := c.audit(ctx, db, &store.AuditEntry{Action: "transmission.read", OrderIDs: ids},
		map[string]any{"query": args, "messages": len(msgs)}); err != nil {
		return err
	}
	w := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tORDER\tVERSION\tACTION\tCOUNTY\tSTATE\tATTEMPTS\tCREATED (UTC)\tDUE\tSENT (UTC)\tANSWERED (UTC)\tLAST ERROR")
	stamp := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, m := range msgs {
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.OrderID, m.OrderVersion, m.Action,
			m.County, m.State, m.Attempts, stamp(&m.CreatedAt), m.DueOn, stamp(m.SentAt), stamp(m.AcknowledgedAt), dash(m.LastError))
	}
	return w.Flush()
}

func (c *TransmitCommand) answer(ctx context.Context, args []string, accepted bool) error {
	name := map[bool]string{true: "ack", false: "reject"}[accepted]
	var reason string
	fs := newFlagSet("transmit "+name, "transmit "+name+" ID [--reason R] [flags]", c.Stderr)
	fs.StringVar(&reason, "reason", "", "why law enforcement rejected the message (required for reject)")
	c.db.register(fs)
	// The ID may come before the flags or after them.
	var id string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if id == "" {
		fs.Usage()
		return errors.New("the message ID is required")
	}
	if !accepted && reason == "" {
		return errors.New("--reason is required: say why law enforcement rejected the message")
	}
	db, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	changed, err := db.AnswerTransmission(ctx, id, accepted, reason)
	if err != nil {
		return err
	}
	m, err := db.FindTransmission(ctx, id)
	if err != nil {
		return err
	}
	if changed {
		if err := c.audit(ctx, db, &store.AuditEntry{Action: "transmission." + name, OrderID: m.OrderID},
			map[string]any{"transmission": m.ID, "reason": reason}); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.Stdout, "message %s (order %s version %d, %s) is %s\n", m.ID, m.OrderID, m.OrderVersion, m.Action, m.State)
	return nil
}

// audit records e as done by the operating-system user on this host: a
// command has no token.
func (c *TransmitCommand) audit(ctx context.Context, db *store.DB, e *store.AuditEntry, detail any) error {
	var err error
	if e.Detail, err = json.Marshal(detail); err != nil {
		return err
	}
	e.UserName, e.ClientAddr = "cli:"+osUser(), "local:"+hostname()
	return db.AppendAudit(ctx, e)
}
