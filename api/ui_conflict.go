package api

import "github.com/gin-gonic/gin"

// registerConflictPages adds the judge's conflict-check pages.
func (s *Server) registerConflictPages(ui *gin.RouterGroup) {}
