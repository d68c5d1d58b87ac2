package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/gin-gonic/gin"
)

func (s *Server) registerUserRoutes(r *gin.RouterGroup) {
	r.GET("/users", s.wrap(s.handleUserList))
	r.POST("/users", s.wrap(s.handleUserCreate))
	r.POST("/users/:id/disable", s.wrap(s.handleUserDisable))
	r.POST("/users/:id/tokens", s.wrap(s.handleTokenCreate))
	r.DELETE("/tokens/:id", s.wrap(s.handleTokenRevoke))
}

// userRequest is an administrator's new user. The password, when given,
// lets the user log in from a browser; it is never recorded anywhere but
// as its argon2id hash.
type userRequest struct {
	Name         string         `json:"name"`
	Role         ccpor.Role     `json:"role"`
	County       string         `json:"county"`
	Division     ccpor.Division `json:"division"`
	Organisation string         `json:"organisation"`
	Username     string         `json:"username"`
	Password     string         `json:"password"`
	TokenLabel   string         `json:"token_label"`
	TokenDays    int            `json:"token_days"`
}

type tokenRequest struct {
	Label string `json:"label"`
	// Days is the token's lifetime; 0 for the default (90 days).
	Days int `json:"days"`
}

// newToken is a token as created: the only answer that carries its
// secret.
type newToken struct {
	*ccpor.Token
	Secret string `json:"token"`
}

func (s *Server) handleUserCreate(c *gin.Context) error {
	var req userRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	lifetime, err := days(req.TokenDays)
	if err != nil {
		return err
	}
	u := &ccpor.User{Name: req.Name, Role: req.Role, County: req.County, Division: req.Division,
		Organisation: req.Organisation, Username: req.Username}
	ctx := c.Request.Context()
	t, secret, err := s.Users.AddUser(ctx, u, ccpor.NewUser{Password: req.Password, TokenLifetime: lifetime, TokenLabel: req.TokenLabel})
	if err != nil {
		return err
	}
	if err := s.Audit.Audit(ctx, "user.create", "", gin.H{"user_id": u.ID, "name": u.Name, "role": u.Role,
		"county": u.County, "division": u.Division, "organisation": u.Organisation, "username": u.Username,
		"token_id": t.ID, "token_expires_at": t.ExpiresAt}); err != nil {
		return err
	}
	c.Header("Location", "/api/v1/users?id="+strconv.FormatInt(u.ID, 10))
	c.JSON(http.StatusCreated, gin.H{"user": u, "token": newToken{Token: t, Secret: secret}})
	return nil
}

func (s *Server) handleUserList(c *gin.Context) error {
	var f ccpor.UserFilter
	if v := c.Query("id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return ccpor.Errorf(ccpor.EInvalid, "id must be a user's number.")
		}
		f.ID = &id
	}
	if v := c.Query("username"); v != "" {
		f.Username = &v
	}
	ctx := c.Request.Context()
	users, err := s.Users.ListUsers(ctx, f)
	if err != nil {
		return err
	}
	if err := s.Audit.Audit(ctx, "user.list", "", gin.H{"id": c.Query("id"), "username": c.Query("username"), "users": len(users)}); err != nil {
		return err
	}
	if users == nil {
		users = []*ccpor.UserListing{}
	}
	c.JSON(http.StatusOK, gin.H{"users": users})
	return nil
}

// handleUserDisable disables a user: its tokens are revoked and its
// sessions ended in the database at once, and on this node its cached
// tokens are forgotten at once; other nodes stop honouring them within
// tokenTTL.
func (s *Server) handleUserDisable(c *gin.Context) error {
	id, err := idParam(c, "user")
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	if u := ccpor.UserFromContext(ctx); u.ID == id {
		return ccpor.Errorf(ccpor.EConflict, "An administrator cannot disable themselves: ask another.")
	}
	u, err := s.Users.DisableUser(ctx, id)
	if err != nil {
		return err
	}
	s.tokens.forgetUser(id)
	if err := s.Audit.Audit(ctx, "user.disable", "", gin.H{"user_id": id, "name": u.Name}); err != nil {
		return err
	}
	c.JSON(http.StatusOK, u)
	return nil
}

func (s *Server) handleTokenCreate(c *gin.Context) error {
	id, err := idParam(c, "user")
	if err != nil {
		return err
	}
	var req tokenRequest
	if c.Request.ContentLength != 0 {
		if err := decodeStrict(c, &req); err != nil {
			return err
		}
	}
	lifetime, err := days(req.Days)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	t, secret, err := s.Users.CreateToken(ctx, id, req.Label, lifetime)
	if err != nil {
		return err
	}
	if err := s.Audit.Audit(ctx, "token.create", "", gin.H{"user_id": id, "token_id": t.ID, "label": t.Label, "expires_at": t.ExpiresAt}); err != nil {
		return err
	}
	c.JSON(http.StatusCreated, newToken{Token: t, Secret: secret})
	return nil
}

// handleTokenRevoke revokes a token: at once on this node and in the
// database, within tokenTTL on the others.
func (s *Server) handleTokenRevoke(c *gin.Context) error {
	id, err := idParam(c, "token")
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	t, err := s.Users.RevokeToken(ctx, id)
	if err != nil {
		return err
	}
	s.tokens.forgetUser(t.UserID)
	if err := s.Audit.Audit(ctx, "token.revoke", "", gin.H{"user_id": t.UserID, "token_id": t.ID}); err != nil {
		return err
	}
	c.JSON(http.StatusOK, t)
	return nil
}

func idParam(c *gin.Context, noun string) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, ccpor.Errorf(ccpor.ENotFound, "No %s %q.", noun, c.Param("id"))
	}
	return id, nil
}

// days turns a lifetime in days into a duration; 0 is the default.
func days(n int) (time.Duration, error) {
	if n < 0 || time.Duration(n)*24*time.Hour > ccpor.MaxTokenLifetime {
		return 0, ccpor.Errorf(ccpor.EInvalid, "A token lives between 1 and %d days.", int(ccpor.MaxTokenLifetime/(24*time.Hour)))
	}
	return time.Duration(n) * 24 * time.Hour, nil
}
