package api

import (
	"io"
	"net/http"
	"time"

	"github.com/ccpor/ccpor"
	"github.com/gin-gonic/gin"
)

func (s *Server) registerOrderRoutes(r *gin.RouterGroup) {
	r.POST("/orders", s.require(ccpor.RoleClerk, ccpor.RoleAdmin), s.idempotent, s.wrap(s.handleOrderCreate))
	r.GET("/orders/:id", s.wrap(s.handleOrderView))
}

// handleOrderCreate is a clerk's intake of one order.
func (s *Server) handleOrderCreate(c *gin.Context) error {
	o, err := s.readOrder(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	// A clerk enters their own court's orders.
	if u := ccpor.UserFromContext(ctx); u.Role == ccpor.RoleClerk && u.County != "" && u.County != o.County {
		return ccpor.Errorf(ccpor.EForbidden, "A clerk of %s County cannot enter an order of %s County.", u.County, o.County)
	}
	warnings := o.Warnings
	if err := s.Orders.CreateOrder(ctx, o); err != nil {
		return err
	}
	if err := s.Audit.Audit(ctx, "order.create", o.ID, nil); err != nil {
		return err
	}
	o.Warnings = warnings
	// Read-your-writes: answer once the order is searchable, so the clerk
	// who enters it again at once is told it exists.
	if s.Follower != nil && !s.Follower.Sync(ctx, time.Second) {
		s.Logger.Warn("intake answered before the index caught up", "order", o.ID)
	}
	c.Header("Location", "/api/v1/orders/"+o.ID)
	c.JSON(http.StatusCreated, o)
	return nil
}

// handleOrderView returns one order with its history.
func (s *Server) handleOrderView(c *gin.Context) error {
	ctx := c.Request.Context()
	o, err := s.Orders.FindOrderByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.Audit.Audit(ctx, "order.view", o.ID, nil); err != nil {
		return err
	}
	c.JSON(http.StatusOK, o)
	return nil
}

// readOrder reads the order in the request body, strictly, and prepares
// it: EInvalid names every problem.
func (s *Server) readOrder(c *gin.Context) (*ccpor.Order, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes))
	if err != nil {
		return nil, ccpor.Errorf(ccpor.EInvalid, "The order could not be read: it must be JSON of at most %d bytes.", maxBodyBytes)
	}
	o, err := ccpor.ParseOrder(body)
	if err != nil {
		return nil, err
	}
	if err := o.Prepare(s.Now()); err != nil {
		return nil, err
	}
	return o, nil
}
