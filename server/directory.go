package server

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// directory answers GET /api/v1/directory?ids=a,b,c: the display names of
// the users and departments among the ids (the UI shows them instead of
// owner_id, department_id and created_by). Signed-in callers only.
// ?username=NAME (an extension for the sharing panel) answers instead the
// user with exactly that username, if any, in the same shape.
func (s *Server) directory(c *gin.Context) {
	u, ok := requireUser(c)
	if !ok {
		return
	}
	if name, ok := c.GetQuery("username"); ok {
		d, err := s.deps.Accounts.UserNamed(c.Request.Context(), u, name)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, d)
		return
	}
	var ids []string
	for _, v := range c.QueryArray("ids") {
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
	}
	d, err := s.deps.Accounts.Directory(c.Request.Context(), u, ids)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}
