package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
)

const auditUsage = `Usage:
  ccpor audit verify [flags]   check the audit trail's hash chain; exit 1 naming the first bad row
  ccpor audit list [flags]     recent audit entries, newest first (this read is itself audited)
`

// AuditCommand checks and reads the audit trail.
type AuditCommand struct {
	Stdout, Stderr io.Writer
	db             dbFlags
}

// Run dispatches the audit subcommand.
func (c *AuditCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.Stderr, auditUsage)
		return errors.New("no audit command given")
	}
	switch args[0] {
	case "verify":
		return c.verify(ctx, args[1:])
	case "list":
		return c.list(ctx, args[1:])
	}
	fmt.Fprint(c.Stderr, auditUsage)
	return fmt.Errorf("unknown audit command %q", args[0])
}

// verify walks the chain. It only reads, so it can run against a replica.
func (c *AuditCommand) verify(ctx context.Context, args []string) error {
	fs := newFlagSet("audit verify", "audit verify [flags]", c.Stderr)
	c.db.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := c.db.open(ctx, slog.New(slog.NewTextHandler(c.Stderr, nil)))
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := db.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if !v.OK() {
		fmt.Fprintf(c.Stdout, "audit chain broken at row %d: %s\n", v.BadID, v.Problem)
		return exitError(1)
	}
	// The head printed here, kept elsewhere, is what shows a rewrite of
	// the whole chain later.
	fmt.Fprintf(c.Stdout, "audit chain holds: %d rows, last row %d, head %x\n", v.Rows, v.LastID, v.Head)
	return nil
}

func (c *AuditCommand) list(ctx context.Context, args []string) error {
	var f store.AuditFilter
	var role, since, until string
	fs := newFlagSet("audit list", "audit list [--user ID] [--action A] [--order ID] [--since T] [--until T] [--limit N] [flags]", c.Stderr)
	fs.Int64Var(&f.UserID, "user", 0, "only this user's entries (user ID)")
	fs.StringVar(&role, "role", "", "only entries by users of this role")
	fs.StringVar(&f.Action, "action", "", "only this action (search, order.view, check.conflicts, audit.read...)")
	fs.StringVar(&f.Outcome, "outcome", "", "only this outcome (ok, unauthenticated, denied, invalid, not_found, conflict, throttled, unavailable, error)")
	fs.StringVar(&f.ClientAddr, "client", "", "only requests from this address")
	fs.StringVar(&f.OrderID, "order", "", "only entries acting on this order or returning it")
	fs.StringVar(&since, "since", "", "only entries at or after this time (RFC 3339, or a date: midnight UTC)")
	fs.StringVar(&until, "until", "", "only entries before this time (RFC 3339, or a date)")
	fs.Int64Var(&f.Before, "before", 0, "only entries with a smaller ID (the next page)")
	fs.IntVar(&f.Limit, "limit", 50, fmt.Sprintf("at most this many entries (up to %d)", store.MaxAuditLimit))
	c.db.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	f.Role = ccpor.Role(role)
	var err error
	if f.Since, err = parseInstant(since); err != nil {
		return fmt.Errorf("--since: %w", err)
	}
	if f.Until, err = parseInstant(until); err != nil {
		return fmt.Errorf("--until: %w", err)
	}
	db, err := c.db.open(ctx, slog.New(slog.NewTextHandler(c.Stderr, nil)))
	if err != nil {
		return err
	}
	defer db.Close()
	entries, err := db.AuditQuery(ctx, f)
	if err != nil {
		return err
	}
	// Whoever reads the trail from the command line is in it too, as
	// the operating-system user on this host: there is no token here.
	asked, err := json.Marshal(map[string]any{"query": args, "entries": len(entries)})
	if err != nil {
		return err
	}
	if err := db.AppendAudit(ctx, &store.AuditEntry{Action: "audit.read", UserName: "cli:" + osUser(), ClientAddr: "local:" + hostname(), Detail: asked}); err != nil {
		return err
	}
	w := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tAT (UTC)\tUSER\tROLE\tACTION\tOUTCOME\tCLIENT\tORDER\tRETURNED\tDETAIL")
	for _, e := range entries {
		who := e.UserName
		if e.UserID != 0 {
			who = fmt.Sprintf("%s (#%d)", e.UserName, e.UserID)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", e.ID, e.At.UTC().Format(time.RFC3339), dash(who), dash(string(e.Role)),
			e.Action, e.Outcome, dash(e.ClientAddr), dash(e.OrderID), len(e.OrderIDs), e.Detail)
	}
	return w.Flush()
}

func parseInstant(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, s)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return strings.ReplaceAll(s, "\t", " ")
}

func osUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}
