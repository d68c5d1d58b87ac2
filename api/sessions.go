package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/ccpor/ccpor/store"
	"github.com/gin-gonic/gin"
)

func (s *Server) registerSessionRoutes(r *gin.RouterGroup) {
	r.POST("/sessions", s.wrap(s.handleLogin))
	r.DELETE("/sessions", s.wrap(s.handleLogout))
	r.GET("/me", s.wrap(s.handleMe))
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// sessionAnswer is a login's answer: who, and until when at most.
type sessionAnswer struct {
	User      *ccpor.User `json:"user"`
	ExpiresAt time.Time   `json:"expires_at"`
	// IdleTimeoutSeconds is how long the session lasts without a request.
	IdleTimeoutSeconds int `json:"idle_timeout_seconds"`
}

// handleLogin opens a browser session: a username and password in, an
// HttpOnly cookie out. A locked username is 429 with Retry-After, like
// every other "not now" of this API (see ratelimit.go).
func (s *Server) handleLogin(c *gin.Context) error {
	// A page of another site can post a form (text/plain can be made to
	// look like JSON) and so log a browser in as someone else; it cannot
	// send application/json without a CORS preflight.
	if c.ContentType() != "application/json" {
		return ccpor.Errorf(ccpor.EInvalid, "A login is JSON: send Content-Type: application/json.")
	}
	var req loginRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	ctx := c.Request.Context()
	sess, err := s.Users.Login(ctx, req.Username, req.Password)
	var locked *ccpor.LockedError
	if errors.As(err, &locked) {
		s.auditLoginFailure(ctx, store.AuditThrottled, req.Username)
		seconds := max(1, int(math.Ceil(locked.Until.Sub(s.Now()).Seconds())))
		c.Header("Retry-After", strconv.Itoa(seconds))
		s.writeProblem(c, http.StatusTooManyRequests, "login_locked",
			fmt.Sprintf("Too many failed logins for this username: try again in %d minutes.", (seconds+59)/60), nil)
		return nil
	} else if ccpor.ErrorCode(err) == ccpor.EUnauthorized {
		s.auditLoginFailure(ctx, store.AuditUnauthenticated, req.Username)
		return err
	} else if err != nil {
		return err
	}
	ctx = ccpor.NewContextWithUser(ctx, sess.User)
	if err := s.Audit.Audit(ctx, "session.login", "", gin.H{"username": sess.User.Username}); err != nil {
		s.Users.Logout(ctx, sess.Secret)
		return err
	}
	s.setSessionCookie(c, sess.Secret, sess.ExpiresAt)
	c.JSON(http.StatusCreated, sessionAnswer{User: sess.User, ExpiresAt: sess.ExpiresAt.UTC(),
		IdleTimeoutSeconds: int(ccpor.SessionIdle / time.Second)})
	return nil
}

// auditLoginFailure records a refused login with the username tried, so
// that guessing at one account shows in the trail. The username is the
// client's text, so it is cut to the longest a username can be.
func (s *Server) auditLoginFailure(ctx context.Context, outcome, username string) {
	if r := []rune(username); len(r) > 64 {
		username = string(r[:64])
	}
	detail, _ := json.Marshal(gin.H{"username": username})
	if err := s.Audit.AppendAudit(ctx, &store.AuditEntry{Action: "session.login", Outcome: outcome, Detail: detail}); err != nil {
		s.Logger.Error("audit of a refused login failed", "err", err)
	}
}

// handleLogout ends the session of the cookie and clears the cookie. With
// a bearer token and no cookie there is nothing to end.
func (s *Server) handleLogout(c *gin.Context) error {
	if err := s.endSession(c); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// endSession ends the session of the request's cookie, if any, records
// it, and clears the cookie: the API's logout and the sign-out button.
func (s *Server) endSession(c *gin.Context) error {
	ctx := c.Request.Context()
	if secret, err := c.Cookie(sessionCookie); err == nil && secret != "" {
		if err := s.Users.Logout(ctx, secret); err != nil {
			return err
		}
		if err := s.Audit.Audit(ctx, "session.logout", "", nil); err != nil {
			return err
		}
	}
	s.clearSessionCookie(c)
	return nil
}

// handleMe answers who the caller is and how they authenticated, so a
// browser page can tell whether its session is still open.
func (s *Server) handleMe(c *gin.Context) error {
	ctx := c.Request.Context()
	c.JSON(http.StatusOK, gin.H{"user": ccpor.UserFromContext(ctx), "authenticated_by": viaFrom(ctx)})
	return nil
}

// setSessionCookie sets the session cookie: HttpOnly so page scripts
// cannot read it, SameSite=Strict so other sites' pages do not send it,
// Secure on TLS or when the server sits behind a TLS proxy
// (SecureCookies).
func (s *Server) setSessionCookie(c *gin.Context, secret string, expires time.Time) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: sessionCookie, Value: secret, Path: "/",
		MaxAge:   max(1, int(expires.Sub(s.Now())/time.Second)),
		HttpOnly: true, Secure: s.SecureCookies || c.Request.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
}

func (s *Server) clearSessionCookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.SecureCookies || c.Request.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
}
