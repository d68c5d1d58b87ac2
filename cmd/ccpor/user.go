package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/ccpor/ccpor"
)

// UserCommand manages users. "user add" prints the new bearer token alone
// on its last line, so scripts can take it with tail -1.
type UserCommand struct {
	Stdout, Stderr io.Writer
}

// Run dispatches the user subcommand.
func (c *UserCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(c.Stderr, "Usage: ccpor user add --name NAME --role judge|clerk|officer|tribal|admin [--county COUNTY] [--division DIVISION]")
		return errors.New("unknown user command")
	}
	var db dbFlags
	var name, role, county, division string
	fs := newFlagSet("user add", "user add --name NAME --role ROLE [--county COUNTY] [flags]", c.Stderr)
	fs.StringVar(&name, "name", "", "the user's name, as it will appear in audit records (required)")
	fs.StringVar(&role, "role", "", "judge, clerk, officer, tribal (read-only) or admin (required)")
	fs.StringVar(&county, "county", "", "the user's county; a clerk enters only that county's orders")
	fs.StringVar(&division, "division", "", "the user's court division; a juvenile-division clerk sees juvenile orders")
	db.register(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if name == "" || role == "" {
		fs.Usage()
		return errors.New("--name and --role are required")
	}
	d, err := db.open(ctx, slog.New(slog.NewTextHandler(c.Stderr, nil)))
	if err != nil {
		return err
	}
	defer d.Close()
	u := &ccpor.User{Name: name, Role: ccpor.Role(role), County: county, Division: ccpor.Division(division)}
	token, err := d.CreateUser(ctx, u)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "created user %d: %s (%s)\n", u.ID, u.Name, u.Role)
	fmt.Fprintln(c.Stdout, token)
	return nil
}
