package api

import (
	"slices"
	"strings"

	"github.com/ccpor/ccpor"
	"github.com/gin-gonic/gin"
)

// authenticate admits a request carrying a valid bearer token and puts its
// user in the request context. A token is checked against the database at
// most once per tokenTTL (see tokenCache).
func (s *Server) authenticate(c *gin.Context) {
	h := c.GetHeader("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		s.writeError(c, ccpor.Errorf(ccpor.EUnauthorized, "A bearer token is required: Authorization: Bearer <token> (make one with `ccpor user add`)."))
		c.Abort()
		return
	}
	u, err := s.tokens.authenticate(c.Request.Context(), s.Users, strings.TrimSpace(token))
	if err != nil {
		s.writeError(c, err)
		c.Abort()
		return
	}
	c.Request = c.Request.WithContext(ccpor.NewContextWithUser(c.Request.Context(), u))
	c.Next()
}

// require admits only users holding one of the roles.
func (s *Server) require(roles ...ccpor.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		u := ccpor.UserFromContext(c.Request.Context())
		if u == nil || !slices.Contains(roles, u.Role) {
			s.writeError(c, ccpor.Errorf(ccpor.EForbidden, "Your role may not do this."))
			c.Abort()
			return
		}
		c.Next()
	}
}
