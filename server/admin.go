package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"docplat/accounts"
)

// requireAdmin lets admins and dept_admins through; the account service
// decides the finer scope.
func requireAdmin(c *gin.Context) (accounts.User, bool) {
	u, ok := requireUser(c)
	if !ok {
		return u, false
	}
	if u.Role != accounts.RoleAdmin && u.Role != accounts.RoleDeptAdmin {
		abort(c, http.StatusForbidden, "forbidden", "administrators only")
		return u, false
	}
	return u, true
}

func (s *Server) listUsers(c *gin.Context) {
	u, ok := requireAdmin(c)
	if !ok {
		return
	}
	p, size, ok := page(c)
	if !ok {
		return
	}
	items, total, err := s.deps.Accounts.ListUsers(c, u, accounts.Page{Page: p, Size: size})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(items, total, p, size))
}

type createUserRequest struct {
	Username     string        `json:"username"`
	Password     string        `json:"password"`
	DisplayName  string        `json:"display_name"`
	Role         accounts.Role `json:"role"`
	DepartmentID string        `json:"department_id"`
}

func (s *Server) createUser(c *gin.Context) {
	u, ok := requireAdmin(c)
	if !ok {
		return
	}
	var req createUserRequest
	if !s.decodeJSON(c, &req) {
		return
	}
	created, err := s.deps.Accounts.CreateUser(c, u, accounts.NewUser(req))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/admin/users/"+created.ID)
	c.JSON(http.StatusCreated, created)
}

func (s *Server) getUser(c *gin.Context) {
	u, ok := requireAdmin(c)
	if !ok {
		return
	}
	got, err := s.deps.Accounts.UserByID(c, u, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, got)
}

type patchUserRequest struct {
	Role         *accounts.Role `json:"role"`
	DepartmentID *string        `json:"department_id"`
	Disabled     *bool          `json:"disabled"`
	Password     *string        `json:"password"`
	DisplayName  *string        `json:"display_name"`
}

func (s *Server) patchUser(c *gin.Context) {
	u, ok := requireAdmin(c)
	if !ok {
		return
	}
	var req patchUserRequest
	if !s.decodeJSON(c, &req) {
		return
	}
	got, err := s.deps.Accounts.UpdateUser(c, u, c.Param("id"), accounts.UserPatch(req))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, got)
}

func (s *Server) deleteUser(c *gin.Context) {
	u, ok := requireAdmin(c)
	if !ok {
		return
	}
	if err := s.deps.Accounts.DeleteUser(c, u, c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) listDepartments(c *gin.Context) {
	u, ok := requireAdmin(c)
	if !ok {
		return
	}
	p, size, ok := page(c)
	if !ok {
		return
	}
	items, total, err := s.deps.Accounts.ListDepartments(c, u, accounts.Page{Page: p, Size: size})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list(items, total, p, size))
}

type createDepartmentRequest struct {
	Name       string `json:"name"`
	ParentID   string `json:"parent_id"`
	QuotaBytes int64  `json:"quota_bytes"`
}

func (s *Server) createDepartment(c *gin.Context) {
	u, ok := requireAdmin(c)
	if !ok {
		return
	}
	var req createDepartmentRequest
	if !s.decodeJSON(c, &req) {
		return
	}
	d, err := s.deps.Accounts.CreateDepartment(c, u, req.Name, req.ParentID, req.QuotaBytes)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/admin/departments/"+d.ID)
	c.JSON(http.StatusCreated, d)
}

func (s *Server) getDepartment(c *gin.Context) {
	u, ok := requireAdmin(c)
	if !ok {
		return
	}
	d, err := s.deps.Accounts.Department(c, u, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

type patchDepartmentRequest struct {
	Name       *string `json:"name"`
	QuotaBytes *int64  `json:"quota_bytes"`
}

func (s *Server) patchDepartment(c *gin.Context) {
	u, ok := requireAdmin(c)
	if !ok {
		return
	}
	var req patchDepartmentRequest
	if !s.decodeJSON(c, &req) {
		return
	}
	d, err := s.deps.Accounts.UpdateDepartment(c, u, c.Param("id"), accounts.DepartmentPatch(req))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

func (s *Server) deleteDepartment(c *gin.Context) {
	u, ok := requireAdmin(c)
	if !ok {
		return
	}
	if err := s.deps.Accounts.DeleteDepartment(c, u, c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
