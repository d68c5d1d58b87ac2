package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
)

const userUsage = `Usage:
  ccpor user add --name NAME --role judge|clerk|officer|tribal|admin [--county C] [--division D]
                 [--organisation ORG] [--username U --password-stdin] [--token-days N]
  ccpor user disable --id N | --username U
  ccpor user list
`

// UserCommand manages users. "user add" prints the new bearer token alone
// on its last line, so scripts can take it with tail -1. Whoever can run
// it can reach the database, so it is an administrator's tool; what it
// does is audited as done by the operating-system user.
type UserCommand struct {
	Stdout, Stderr io.Writer
	// Stdin is where --password-stdin reads; os.Stdin when nil.
	Stdin io.Reader
	db    dbFlags
}

// Run dispatches the user subcommand.
func (c *UserCommand) Run(ctx context.Context, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "add":
			return c.add(ctx, args[1:])
		case "disable":
			return c.disable(ctx, args[1:])
		case "list":
			return c.list(ctx, args[1:])
		}
	}
	fmt.Fprint(c.Stderr, userUsage)
	return errors.New("unknown user command")
}

func (c *UserCommand) add(ctx context.Context, args []string) error {
	var name, role, county, division, organisation, username, label string
	var passwordStdin bool
	var days int
	fs := newFlagSet("user add", "user add --name NAME --role ROLE [--county COUNTY] [flags]", c.Stderr)
	fs.StringVar(&name, "name", "", "the user's name, as it will appear in audit records (required)")
	fs.StringVar(&role, "role", "", "judge, clerk, officer, tribal (read-only) or admin (required)")
	fs.StringVar(&county, "county", "", "the user's county; a clerk enters only that county's orders")
	fs.StringVar(&division, "division", "", "the user's court division; a juvenile-division clerk sees juvenile orders")
	fs.StringVar(&organisation, "organisation", "", "the court or agency the user works for")
	fs.StringVar(&username, "username", "", "login name for the browser (needs --password-stdin)")
	// Never a flag value: those end up in shell history and in ps.
	fs.BoolVar(&passwordStdin, "password-stdin", false, "read the password (at least 12 characters) from the first line of stdin")
	fs.IntVar(&days, "token-days", 0, "lifetime of the bearer token in days (default 90, at most 366)")
	fs.StringVar(&label, "token-label", "", "what the token is for, e.g. the system that uses it")
	c.db.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if name == "" || role == "" {
		fs.Usage()
		return errors.New("--name and --role are required")
	}
	if (username != "") != passwordStdin {
		return errors.New("--username and --password-stdin go together")
	}
	if days < 0 || days > 366 {
		return errors.New("--token-days is between 1 and 366")
	}
	var password string
	if passwordStdin {
		var err error
		if password, err = c.readPassword(); err != nil {
			return err
		}
	}
	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	u := &ccpor.User{Name: name, Role: ccpor.Role(role), County: county, Division: ccpor.Division(division),
		Organisation: organisation, Username: username}
	t, token, err := d.AddUser(ctx, u, ccpor.NewUser{Password: password, TokenLifetime: time.Duration(days) * 24 * time.Hour, TokenLabel: label})
	if err != nil {
		return err
	}
	if err := c.audit(ctx, d, "user.create", map[string]any{"user_id": u.ID, "name": u.Name, "role": u.Role, "county": u.County,
		"division": u.Division, "organisation": u.Organisation, "username": u.Username, "token_id": t.ID, "token_expires_at": t.ExpiresAt}); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "created user %d: %s (%s); token %d expires %s\n", u.ID, u.Name, u.Role, t.ID, t.ExpiresAt.UTC().Format(time.DateOnly))
	fmt.Fprintln(c.Stdout, token)
	return nil
}

// readPassword reads the first line of stdin, without its line ending.
func (c *UserCommand) readPassword() (string, error) {
	in := c.Stdin
	if in == nil {
		in = os.Stdin
	}
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("--password-stdin: no password on stdin")
	}
	return pw, nil
}

func (c *UserCommand) disable(ctx context.Context, args []string) error {
	var id int64
	var username string
	fs := newFlagSet("user disable", "user disable --id N | --username U", c.Stderr)
	fs.Int64Var(&id, "id", 0, "the user's number (see user list)")
	fs.StringVar(&username, "username", "", "the user's login name")
	c.db.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (id == 0) == (username == "") {
		fs.Usage()
		return errors.New("give --id or --username")
	}
	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	if username != "" {
		found, err := d.ListUsers(ctx, ccpor.UserFilter{Username: &username})
		if err != nil {
			return err
		}
		if len(found) == 0 {
			return fmt.Errorf("no user with username %q", username)
		}
		id = found[0].ID
	}
	u, err := d.DisableUser(ctx, id)
	if err != nil {
		return err
	}
	if err := c.audit(ctx, d, "user.disable", map[string]any{"user_id": u.ID, "name": u.Name}); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "disabled user %d: %s; its tokens are revoked and its sessions ended (servers' token caches forget within 30 s)\n", u.ID, u.Name)
	return nil
}

func (c *UserCommand) list(ctx context.Context, args []string) error {
	fs := newFlagSet("user list", "user list", c.Stderr)
	c.db.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	users, err := d.ListUsers(ctx, ccpor.UserFilter{})
	if err != nil {
		return err
	}
	if err := c.audit(ctx, d, "user.list", map[string]any{"users": len(users)}); err != nil {
		return err
	}
	w := tabwriter.NewWriter(c.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tROLE\tCOUNTY\tDIVISION\tORGANISATION\tUSERNAME\tDISABLED\tTOKENS")
	for _, u := range users {
		disabled := "-"
		if u.DisabledAt != nil {
			disabled = u.DisabledAt.UTC().Format(time.DateOnly)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", u.ID, u.Name, u.Role, dash(u.County), dash(string(u.Division)),
			dash(u.Organisation), dash(u.Username), disabled, u.ActiveTokens)
	}
	return w.Flush()
}

func (c *UserCommand) open(ctx context.Context) (*store.DB, error) {
	return c.db.open(ctx, slog.New(slog.NewTextHandler(c.Stderr, nil)))
}

// audit records a change made from the command line, as the API records
// its own, naming the operating-system user who ran it.
func (c *UserCommand) audit(ctx context.Context, d *store.DB, action string, detail any) error {
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	return d.AppendAudit(ctx, &store.AuditEntry{Action: action, UserName: "cli:" + osUser(), ClientAddr: "local:" + hostname(), Detail: b})
}
