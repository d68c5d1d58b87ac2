package api

import "github.com/gin-gonic/gin"

// registerQueuePages adds the clerk's work queues.
func (s *Server) registerQueuePages(ui *gin.RouterGroup) {}
