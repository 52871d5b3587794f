package server

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"docplat/accounts"
	"docplat/errs"
)

// requireAdmin lets admins and dept_admins through; the account service
// decides the finer scope.
func requireAdmin(c *gin.Context) (accounts.User, bool) {
	u, ok := requireUser(c)
	if !ok {
		return u, false
	}
	if u.Role != accounts.RoleAdmin && u.Role != accounts.RoleDeptAdmin {
		abort(c, errs.Forbidden, "administrators only")
		return u, false
	}
	return u, true
}

// The administration routes share one shape per verb; these build them.

func adminList[T any](s *Server, fetch func(context.Context, accounts.User, accounts.Page) ([]T, int64, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, ok := requireAdmin(c)
		if !ok {
			return
		}
		p, size, ok := page(c)
		if !ok {
			return
		}
		items, total, err := fetch(c.Request.Context(), u, accounts.Page{Page: p, Size: size})
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, list(items, total, p, size))
	}
}

func adminGet[T any](s *Server, get func(context.Context, accounts.User, string) (T, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, ok := requireAdmin(c)
		if !ok {
			return
		}
		v, err := get(c.Request.Context(), u, c.Param("id"))
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, v)
	}
}

// adminWrite decodes a Req body and answers status with what apply returns;
// created resources also get a Location under base.
func adminWrite[Req any, T interface{ GetID() string }](s *Server, status int, base string, apply func(context.Context, accounts.User, string, Req) (T, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, ok := requireAdmin(c)
		if !ok {
			return
		}
		var req Req
		if !s.decodeJSON(c, &req) {
			return
		}
		v, err := apply(c.Request.Context(), u, c.Param("id"), req)
		if err != nil {
			s.fail(c, err)
			return
		}
		if status == http.StatusCreated {
			c.Header("Location", base+v.GetID())
		}
		c.JSON(status, v)
	}
}

func adminDelete(s *Server, del func(context.Context, accounts.User, string) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, ok := requireAdmin(c)
		if !ok {
			return
		}
		if err := del(c.Request.Context(), u, c.Param("id")); err != nil {
			s.fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

type createUserRequest struct {
	Username     string        `json:"username"`
	Password     string        `json:"password"`
	DisplayName  string        `json:"display_name"`
	Role         accounts.Role `json:"role"`
	DepartmentID string        `json:"department_id"`
}

type patchUserRequest struct {
	Role         *accounts.Role `json:"role"`
	DepartmentID *string        `json:"department_id"`
	Disabled     *bool          `json:"disabled"`
	Password     *string        `json:"password"`
	DisplayName  *string        `json:"display_name"`
}

type createDepartmentRequest struct {
	Name       string `json:"name"`
	ParentID   string `json:"parent_id"`
	QuotaBytes int64  `json:"quota_bytes"`
}

type patchDepartmentRequest struct {
	Name       *string `json:"name"`
	QuotaBytes *int64  `json:"quota_bytes"`
}

func (s *Server) adminRoutes(g *gin.RouterGroup) {
	acc := s.deps.Accounts
	g.GET("/users", func(c *gin.Context) {
		// ?q= narrows the list (an extension for the administration screen).
		q := c.Query("q")
		adminList(s, func(ctx context.Context, u accounts.User, p accounts.Page) ([]accounts.User, int64, error) {
			return acc.SearchUsers(ctx, u, q, p)
		})(c)
	})
	g.POST("/users", adminWrite(s, http.StatusCreated, "/api/v1/admin/users/",
		func(ctx context.Context, u accounts.User, _ string, r createUserRequest) (accounts.User, error) {
			return acc.CreateUser(ctx, u, accounts.NewUser(r))
		}))
	g.GET("/users/:id", adminGet(s, acc.UserByID))
	g.PATCH("/users/:id", adminWrite(s, http.StatusOK, "",
		func(ctx context.Context, u accounts.User, id string, r patchUserRequest) (accounts.User, error) {
			return acc.UpdateUser(ctx, u, id, accounts.UserPatch(r))
		}))
	g.DELETE("/users/:id", adminDelete(s, acc.DeleteUser))

	g.GET("/departments", adminList(s, acc.ListDepartments))
	g.POST("/departments", adminWrite(s, http.StatusCreated, "/api/v1/admin/departments/",
		func(ctx context.Context, u accounts.User, _ string, r createDepartmentRequest) (accounts.Department, error) {
			return acc.CreateDepartment(ctx, u, r.Name, r.ParentID, r.QuotaBytes)
		}))
	g.GET("/departments/:id", adminGet(s, acc.Department))
	g.PATCH("/departments/:id", adminWrite(s, http.StatusOK, "",
		func(ctx context.Context, u accounts.User, id string, r patchDepartmentRequest) (accounts.Department, error) {
			return acc.UpdateDepartment(ctx, u, id, accounts.DepartmentPatch(r))
		}))
	g.DELETE("/departments/:id", adminDelete(s, acc.DeleteDepartment))
}
