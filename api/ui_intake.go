package api

import "github.com/gin-gonic/gin"

// registerIntakePages adds the clerk's intake pages.
func (s *Server) registerIntakePages(ui *gin.RouterGroup) {}
