package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/api"
	"github.com/ccpor/ccpor/store"
)

const password = "correct horse battery"

// send makes a request with the given headers and checks the answer
// against the OpenAPI document.
func (ts *testServer) send(method, path, body string, header map[string]string) (*http.Response, []byte) {
	ts.t.Helper()
	req, err := http.NewRequest(method, ts.srv.URL+path, strings.NewReader(body))
	if err != nil {
		ts.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.checkSpec(req, []byte(body), resp, got)
	return resp, got
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

func cookie(value string, csrf bool) map[string]string {
	h := map[string]string{"Cookie": "ccpor_session=" + value}
	if csrf {
		h["X-CCPOR-CSRF"] = "1"
	}
	return h
}

func mustStatus(t *testing.T, resp *http.Response, body []byte, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
}

// mustAdmin gives the server an administrator and returns its token.
func (ts *testServer) mustAdmin() string {
	ts.t.Helper()
	token, err := ts.db.CreateUser(context.Background(), &ccpor.User{Name: "Admin", Role: ccpor.RoleAdmin})
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.tokens[ccpor.RoleAdmin] = token
	return token
}

type createdUser struct {
	User  ccpor.User `json:"user"`
	Token struct {
		ccpor.Token
		Secret string `json:"token"`
	} `json:"token"`
}

// mustCreateUser creates a user through the API, as an administrator.
func (ts *testServer) mustCreateUser(admin, body string) createdUser {
	ts.t.Helper()
	resp, got := ts.send("POST", "/api/v1/users", body, bearer(admin))
	if resp.StatusCode != http.StatusCreated {
		ts.t.Fatalf("create user: %d %s", resp.StatusCode, got)
	}
	var u createdUser
	if err := json.Unmarshal(got, &u); err != nil {
		ts.t.Fatal(err)
	}
	return u
}

// mustLogin logs in and returns the session cookie's value.
func (ts *testServer) mustLogin(username string) (string, *http.Cookie) {
	ts.t.Helper()
	resp, body := ts.send("POST", "/api/v1/sessions", fmt.Sprintf(`{"username": %q, "password": %q}`, username, password), nil)
	if resp.StatusCode != http.StatusCreated {
		ts.t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "ccpor_session" {
			return c.Value, c
		}
	}
	ts.t.Fatalf("login set no session cookie: %v", resp.Header.Values("Set-Cookie"))
	return "", nil
}

func whoAmI(t *testing.T, ts *testServer, header map[string]string) (int64, string) {
	t.Helper()
	resp, body := ts.send("GET", "/api/v1/me", "", header)
	mustStatus(t, resp, body, http.StatusOK)
	var me struct {
		User ccpor.User `json:"user"`
		Via  string     `json:"authenticated_by"`
	}
	if err := json.Unmarshal(body, &me); err != nil {
		t.Fatal(err)
	}
	return me.User.ID, me.Via
}

func TestSessions(t *testing.T) {
	ts := mustServer(t)
	admin := ts.mustAdmin()
	judge := ts.mustCreateUser(admin, `{"name": "Judge Rivera", "role": "judge", "county": "Alameda",
		"organisation": "Superior Court of Alameda County", "username": "jrivera", "password": "`+password+`"}`)
	ctx := context.Background()

	t.Run("LoginSetsCookie", func(t *testing.T) {
		secret, c := ts.mustLogin("JRivera")
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure {
			t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/, not Secure on plain HTTP", c)
		}
		id, via := whoAmI(t, ts, cookie(secret, false))
		if id != judge.User.ID || via != "session" {
			t.Errorf("me = %d by %s, want %d by session", id, via, judge.User.ID)
		}
		if e := ts.mustAuditEntries(store.AuditFilter{Action: "session.login"}); len(e) != 1 || e[0].UserID != judge.User.ID {
			t.Errorf("login audited as %+v", e)
		}
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		var details []string
		for _, body := range []string{`{"username": "jrivera", "password": "wrong wrong wrong"}`, `{"username": "nobody", "password": "` + password + `"}`} {
			resp, got := ts.send("POST", "/api/v1/sessions", body, nil)
			details = append(details, mustProblem(t, resp, got, http.StatusUnauthorized).Detail)
			if len(resp.Cookies()) != 0 {
				t.Errorf("a failed login set a cookie: %v", resp.Cookies())
			}
		}
		if details[0] != details[1] {
			t.Errorf("a wrong password and an unknown user are told apart: %q", details)
		}
		es := ts.mustAuditEntries(store.AuditFilter{Action: "session.login", Outcome: store.AuditUnauthenticated, Oldest: true})
		if len(es) != 2 || !strings.Contains(string(es[0].Detail), `"jrivera"`) || !strings.Contains(string(es[1].Detail), `"nobody"`) {
			t.Errorf("failed logins audited as %+v, want each once with the username tried", es)
		}
	})
	t.Run("ErrLoginNotJSON", func(t *testing.T) {
		// What a cross-site text/plain form can send.
		resp, body := ts.send("POST", "/api/v1/sessions", `{"username": "jrivera", "password": "`+password+`"}`,
			map[string]string{"Content-Type": "text/plain"})
		mustProblem(t, resp, body, http.StatusBadRequest)
	})
	t.Run("CSRF", func(t *testing.T) {
		secret, _ := ts.mustLogin("jrivera")
		search := `{"last": "garcia"}`
		resp, body := ts.send("POST", "/api/v1/search", search, cookie(secret, false))
		if p := mustProblem(t, resp, body, http.StatusForbidden); !strings.Contains(p.Detail, "X-CCPOR-CSRF") {
			t.Errorf("refusal does not name the header: %q", p.Detail)
		}
		resp, body = ts.send("POST", "/api/v1/search", search, cookie(secret, true))
		mustStatus(t, resp, body, http.StatusOK)
		// A bearer token needs no such header: browsers never send one
		// on their own.
		resp, body = ts.send("POST", "/api/v1/search", search, bearer(judge.Token.Secret))
		mustStatus(t, resp, body, http.StatusOK)
	})
	t.Run("Logout", func(t *testing.T) {
		secret, _ := ts.mustLogin("jrivera")
		resp, body := ts.send("DELETE", "/api/v1/sessions", "", cookie(secret, false))
		mustProblem(t, resp, body, http.StatusForbidden)
		resp, body = ts.send("DELETE", "/api/v1/sessions", "", cookie(secret, true))
		mustStatus(t, resp, body, http.StatusNoContent)
		if cs := resp.Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 {
			t.Errorf("logout did not clear the cookie: %v", resp.Header.Values("Set-Cookie"))
		}
		resp, body = ts.send("GET", "/api/v1/me", "", cookie(secret, false))
		mustProblem(t, resp, body, http.StatusUnauthorized)
	})
	t.Run("IdleTimeout", func(t *testing.T) {
		secret, _ := ts.mustLogin("jrivera")
		whoAmI(t, ts, cookie(secret, false))
		if _, err := ts.db.Pool.Exec(ctx, `UPDATE sessions SET last_seen_at = last_seen_at - $1::interval`,
			ccpor.SessionIdle.String()); err != nil {
			t.Fatal(err)
		}
		resp, body := ts.send("GET", "/api/v1/me", "", cookie(secret, false))
		mustProblem(t, resp, body, http.StatusUnauthorized)
	})
	t.Run("AbsoluteLifetime", func(t *testing.T) {
		secret, _ := ts.mustLogin("jrivera")
		if _, err := ts.db.Pool.Exec(ctx, `UPDATE sessions SET expires_at = $1`, now); err != nil {
			t.Fatal(err)
		}
		resp, body := ts.send("GET", "/api/v1/me", "", cookie(secret, false))
		mustProblem(t, resp, body, http.StatusUnauthorized)
	})
	t.Run("Lockout", func(t *testing.T) {
		ts.mustCreateUser(admin, `{"name": "Clerk Tran", "role": "clerk", "username": "ctran", "password": "`+password+`"}`)
		for range ccpor.LoginAttempts {
			resp, body := ts.send("POST", "/api/v1/sessions", `{"username": "ctran", "password": "a wrong guess"}`, nil)
			mustProblem(t, resp, body, http.StatusUnauthorized)
		}
		resp, body := ts.send("POST", "/api/v1/sessions", `{"username": "ctran", "password": "`+password+`"}`, nil)
		p := mustProblem(t, resp, body, http.StatusTooManyRequests)
		if p.Type != "urn:ccpor:problem:login_locked" {
			t.Errorf("type %s", p.Type)
		}
		if got, want := resp.Header.Get("Retry-After"), "600"; got != want {
			t.Errorf("Retry-After = %s, want %s", got, want)
		}
		if es := ts.mustAuditEntries(store.AuditFilter{Action: "session.login", Outcome: store.AuditThrottled}); len(es) != 1 {
			t.Errorf("locked login audited as %+v", es)
		}
		// Ten minutes on (store tests move the clock itself).
		if _, err := ts.db.Pool.Exec(ctx, `UPDATE login_failures SET locked_until = $1`, now); err != nil {
			t.Fatal(err)
		}
		ts.mustLogin("ctran")
	})
}

func TestSecureCookies(t *testing.T) {
	ts := mustServer(t, func(s *api.Server) { s.SecureCookies = true })
	ts.mustCreateUser(ts.mustAdmin(), `{"name": "Judge Rivera", "role": "judge", "username": "jrivera", "password": "`+password+`"}`)
	if _, c := ts.mustLogin("jrivera"); !c.Secure {
		t.Errorf("cookie %+v is not Secure behind a TLS proxy", c)
	}
}

func TestTokenAdmin(t *testing.T) {
	ts := mustServer(t)
	admin := ts.mustAdmin()
	ctx := context.Background()
	officer := ts.mustCreateUser(admin, `{"name": "Deputy Okafor", "role": "officer", "organisation": "Hayward Police Department", "token_label": "patrol car"}`)
	if officer.User.Organisation != "Hayward Police Department" || officer.Token.Secret == "" || officer.Token.Label != "patrol car" {
		t.Fatalf("created %+v", officer)
	}

	t.Run("RevokeNow", func(t *testing.T) {
		whoAmI(t, ts, bearer(officer.Token.Secret)) // now in the token cache
		resp, body := ts.send("DELETE", fmt.Sprintf("/api/v1/tokens/%d", officer.Token.ID), "", bearer(admin))
		mustStatus(t, resp, body, http.StatusOK)
		resp, body = ts.send("GET", "/api/v1/me", "", bearer(officer.Token.Secret))
		mustProblem(t, resp, body, http.StatusUnauthorized)
		if e := ts.mustAuditEntries(store.AuditFilter{Action: "token.revoke"}); len(e) != 1 {
			t.Errorf("revocation audited as %+v", e)
		}
	})
	var second string
	t.Run("NewToken", func(t *testing.T) {
		resp, body := ts.send("POST", fmt.Sprintf("/api/v1/users/%d/tokens", officer.User.ID), `{"label": "dispatch", "days": 30}`, bearer(admin))
		mustStatus(t, resp, body, http.StatusCreated)
		var tok struct {
			ccpor.Token
			Secret string `json:"token"`
		}
		if err := json.Unmarshal(body, &tok); err != nil {
			t.Fatal(err)
		}
		if got, want := tok.ExpiresAt.Sub(tok.CreatedAt).Hours(), 30*24.0; got != want {
			t.Errorf("lifetime %v h, want %v", got, want)
		}
		second = tok.Secret
		if id, via := whoAmI(t, ts, bearer(second)); id != officer.User.ID || via != "token" {
			t.Errorf("me = %d by %s", id, via)
		}
	})
	t.Run("ErrExpired", func(t *testing.T) {
		resp, body := ts.send("POST", fmt.Sprintf("/api/v1/users/%d/tokens", officer.User.ID), ``, bearer(admin))
		mustStatus(t, resp, body, http.StatusCreated)
		var tok struct {
			ID     int64  `json:"id"`
			Secret string `json:"token"`
		}
		if err := json.Unmarshal(body, &tok); err != nil {
			t.Fatal(err)
		}
		if _, err := ts.db.Pool.Exec(ctx, `UPDATE tokens SET expires_at = $1 WHERE id = $2`, now, tok.ID); err != nil {
			t.Fatal(err)
		}
		resp, body = ts.send("GET", "/api/v1/me", "", bearer(tok.Secret))
		mustProblem(t, resp, body, http.StatusUnauthorized)
	})
	t.Run("DisableKillsAll", func(t *testing.T) {
		clerk := ts.mustCreateUser(admin, `{"name": "Clerk Tran", "role": "clerk", "username": "ctran", "password": "`+password+`"}`)
		secret, _ := ts.mustLogin("ctran")
		whoAmI(t, ts, bearer(clerk.Token.Secret)) // cached
		whoAmI(t, ts, cookie(secret, false))
		resp, body := ts.send("POST", fmt.Sprintf("/api/v1/users/%d/disable", clerk.User.ID), "", bearer(admin))
		mustStatus(t, resp, body, http.StatusOK)
		for name, h := range map[string]map[string]string{"token": bearer(clerk.Token.Secret), "session": cookie(secret, false)} {
			resp, body := ts.send("GET", "/api/v1/me", "", h)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s of a disabled user: %d %s", name, resp.StatusCode, body)
			}
		}
		resp, body = ts.send("POST", "/api/v1/sessions", `{"username": "ctran", "password": "`+password+`"}`, nil)
		mustProblem(t, resp, body, http.StatusUnauthorized)
		if e := ts.mustAuditEntries(store.AuditFilter{Action: "user.disable"}); len(e) != 1 {
			t.Errorf("disabling audited as %+v", e)
		}
	})
	t.Run("ErrDisableSelf", func(t *testing.T) {
		id, _ := whoAmI(t, ts, bearer(admin))
		resp, body := ts.send("POST", fmt.Sprintf("/api/v1/users/%d/disable", id), "", bearer(admin))
		mustProblem(t, resp, body, http.StatusConflict)
	})
	t.Run("List", func(t *testing.T) {
		resp, body := ts.send("GET", "/api/v1/users", "", bearer(admin))
		mustStatus(t, resp, body, http.StatusOK)
		var got struct {
			Users []ccpor.UserListing `json:"users"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		byName := map[string]ccpor.UserListing{}
		for _, u := range got.Users {
			byName[u.Name] = u
		}
		if u := byName["Deputy Okafor"]; u.ActiveTokens != 1 || u.DisabledAt != nil {
			t.Errorf("officer listed as %+v, want 1 active token (one revoked, one expired)", u)
		}
		if u := byName["Clerk Tran"]; u.ActiveTokens != 0 || u.DisabledAt == nil {
			t.Errorf("disabled clerk listed as %+v", u)
		}
		if bytes.Contains(body, []byte("password")) {
			t.Error("the list mentions passwords")
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, body := range []string{`{"name": "X", "role": "sheriff"}`, `{"name": "X", "role": "clerk", "username": "x", "password": "short"}`,
			`{"name": "X", "role": "clerk", "token_days": 1000}`} {
			resp, got := ts.send("POST", "/api/v1/users", body, bearer(admin))
			mustProblem(t, resp, got, http.StatusBadRequest)
		}
		resp, got := ts.send("POST", "/api/v1/users", `{"name": "Y", "role": "judge", "username": "JRIVERA2", "password": "`+password+`"}`, bearer(admin))
		mustStatus(t, resp, got, http.StatusCreated)
		resp, got = ts.send("POST", "/api/v1/users", `{"name": "Z", "role": "judge", "username": "jrivera2", "password": "`+password+`"}`, bearer(admin))
		mustProblem(t, resp, got, http.StatusConflict)
		resp, got = ts.send("DELETE", "/api/v1/tokens/999999", "", bearer(admin))
		mustProblem(t, resp, got, http.StatusNotFound)
	})
	t.Run("AuditKeepsNoSecret", func(t *testing.T) {
		es := ts.mustAuditEntries(store.AuditFilter{Limit: 1000})
		for _, e := range es {
			if bytes.Contains(e.Detail, []byte(password)) || bytes.Contains(e.Detail, []byte(officer.Token.Secret)) {
				t.Errorf("audit entry %d records a secret: %s", e.ID, e.Detail)
			}
		}
	})
}
