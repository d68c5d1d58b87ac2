package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
	"github.com/ccpor/ccpor/store/storetest"
)

// runUser runs `ccpor user ARGS` on the database at url with stdin, and
// returns its output.
func runUser(tb testing.TB, url, stdin string, args ...string) (string, error) {
	tb.Helper()
	var out, errOut bytes.Buffer
	cmd := &UserCommand{Stdout: &out, Stderr: &errOut, Stdin: strings.NewReader(stdin)}
	cmd.db.url = url
	err := cmd.Run(context.Background(), args)
	return out.String(), err
}

func TestUserCommand(t *testing.T) {
	ctx := context.Background()
	url := storetest.MustCreateDatabase(t)
	db := mustOpen(t, url)
	const password = "correct horse battery"

	var token string
	t.Run("Add", func(t *testing.T) {
		out, err := runUser(t, url, password+"\n", "add", "--name", "Judge Rivera", "--role", "judge", "--county", "alameda",
			"--organisation", "Superior Court of Alameda County", "--username", "JRivera", "--password-stdin", "--token-days", "7")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		token = lines[len(lines)-1]
		u, err := db.Authenticate(ctx, token)
		if err != nil {
			t.Fatalf("token %q from the last line: %v", token, err)
		}
		if u.Username != "jrivera" || u.Organisation != "Superior Court of Alameda County" || u.County != "Alameda" {
			t.Errorf("created %+v", u)
		}
		if _, err := db.Login(ctx, "jrivera", password); err != nil {
			t.Errorf("login with the password read from stdin: %v", err)
		}
		var lifetime time.Duration
		if err := db.Pool.QueryRow(ctx, `SELECT expires_at - created_at FROM tokens WHERE user_id = $1`, u.ID).Scan(&lifetime); err != nil {
			t.Fatal(err)
		}
		if lifetime != 7*24*time.Hour {
			t.Errorf("token lifetime %v, want 7 days", lifetime)
		}
		es, err := db.AuditQuery(ctx, store.AuditFilter{Action: "user.create"})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 1 || !strings.HasPrefix(es[0].UserName, "cli:") || bytes.Contains(es[0].Detail, []byte(password)) {
			t.Errorf("audited as %+v", es)
		}
	})
	t.Run("AddTokenOnly", func(t *testing.T) {
		out, err := runUser(t, url, "", "add", "--name", "Dispatch", "--role", "officer")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if _, err := db.Authenticate(ctx, lines[len(lines)-1]); err != nil {
			t.Error(err)
		}
	})
	t.Run("ErrAdd", func(t *testing.T) {
		for name, args := range map[string][]string{
			"UsernameNoPassword": {"add", "--name", "X", "--role", "clerk", "--username", "x"},
			"PasswordAsFlag":     {"add", "--name", "X", "--role", "clerk", "--username", "x", "--password", password},
			"ShortPassword":      {"add", "--name", "X", "--role", "clerk", "--username", "x", "--password-stdin"},
			"UsernameTaken":      {"add", "--name", "X", "--role", "clerk", "--username", "jrivera", "--password-stdin"},
		} {
			stdin := password + "\n"
			if name == "ShortPassword" {
				stdin = "short\n"
			}
			if _, err := runUser(t, url, stdin, args...); err == nil {
				t.Errorf("%s: no error", name)
			}
		}
	})
	t.Run("List", func(t *testing.T) {
		out, err := runUser(t, url, "", "list")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 {
			t.Fatalf("list:\n%s", out)
		}
		for _, want := range []string{"ID", "NAME", "ROLE", "COUNTY", "DIVISION", "ORGANISATION", "DISABLED", "TOKENS"} {
			if !strings.Contains(lines[0], want) {
				t.Errorf("header %q lacks %s", lines[0], want)
			}
		}
		if f := strings.Fields(lines[1]); !strings.Contains(lines[1], "Superior Court of Alameda County") || f[len(f)-1] != "1" || f[len(f)-2] != "-" {
			t.Errorf("row %q: want the organisation, not disabled, 1 token", lines[1])
		}
	})
	t.Run("Disable", func(t *testing.T) {
		if _, err := runUser(t, url, "", "disable", "--username", "JRIVERA"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Authenticate(ctx, token); ccpor.ErrorCode(err) != ccpor.EUnauthorized {
			t.Errorf("token of a disabled user: %v", err)
		}
		out, err := runUser(t, url, "", "list")
		if err != nil {
			t.Fatal(err)
		}
		if f := strings.Fields(strings.Split(out, "\n")[1]); f[len(f)-1] != "0" || f[len(f)-2] == "-" {
			t.Errorf("disabled user listed as %q", strings.Split(out, "\n")[1])
		}
		if _, err := runUser(t, url, "", "disable", "--username", "nobody"); err == nil {
			t.Error("disabling nobody: no error")
		}
		if _, err := runUser(t, url, "", "disable"); err == nil {
			t.Error("disable without --id or --username: no error")
		}
	})
}
