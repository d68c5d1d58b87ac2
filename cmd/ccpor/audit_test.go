package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
	"github.com/ccpor/ccpor/store/storetest"
)

// runAudit runs `ccpor audit args...` against the database at url.
func runAudit(t *testing.T, url string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := &AuditCommand{Stdout: &out, Stderr: &errOut}
	cmd.db.url = url
	err := cmd.Run(context.Background(), args)
	if errOut.Len() > 0 {
		t.Logf("stderr: %s", errOut.String())
	}
	return out.String(), err
}

func TestAuditCommand(t *testing.T) {
	url := storetest.MustCreateDatabase(t)
	db := mustOpen(t, url)
	ctx := ccpor.NewContextWithUser(context.Background(), &ccpor.User{ID: 4, Name: "Deputy Okafor", Role: ccpor.RoleOfficer})
	ctx = store.NewContextWithAuditRequest(ctx, &store.AuditRequest{ClientAddr: "10.1.2.3"})
	for _, terms := range []string{"garc", "lopez", "okafor"} {
		if err := db.Audit(ctx, "search", "", map[string]string{"last": terms}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("List", func(t *testing.T) {
		out, err := runAudit(t, url, "list", "--action", "search", "--limit", "2")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 || !strings.Contains(lines[1], "okafor") || !strings.Contains(lines[2], "lopez") ||
			!strings.Contains(lines[1], "Deputy Okafor (#4)") || !strings.Contains(lines[1], "10.1.2.3") {
			t.Errorf("list =\n%s", out)
		}
		// The read is in the trail.
		es, err := db.AuditQuery(context.Background(), store.AuditFilter{Action: "audit.read"})
		if err != nil || len(es) != 1 || !strings.HasPrefix(es[0].UserName, "cli:") || !strings.Contains(string(es[0].Detail), `"--action"`) {
			t.Errorf("audit.read entries = %+v, %v", es, err)
		}
	})
	t.Run("VerifyOK", func(t *testing.T) {
		out, err := runAudit(t, url, "verify")
		if err != nil || !strings.HasPrefix(out, "audit chain holds: 4 rows, last row 4, head ") || strings.Count(out, "\n") != 1 {
			t.Fatalf("verify = %q, %v", out, err)
		}
	})
	t.Run("VerifyAltered", func(t *testing.T) {
		for _, q := range []string{
			`ALTER TABLE audit DISABLE TRIGGER audit_immutable`,
			`UPDATE audit SET detail = '{"last": "someone else"}' WHERE id = 2`,
			`ALTER TABLE audit ENABLE TRIGGER audit_immutable`,
		} {
			if _, err := db.Pool.Exec(context.Background(), q); err != nil {
				t.Fatal(err)
			}
		}
		out, err := runAudit(t, url, "verify")
		var exit exitError
		if !errors.As(err, &exit) || exit != 1 {
			t.Errorf("err = %v, want exit status 1", err)
		}
		if want := "audit chain broken at row 2: row 2 was altered"; !strings.HasPrefix(out, want) {
			t.Errorf("verify = %q, want %q", out, want)
		}
	})
}
