package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"docplat/accounts"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token     string        `json:"token"`
	ExpiresAt time.Time     `json:"expires_at"`
	User      accounts.User `json:"user"`
	CSRFToken string        `json:"csrf_token"`
}

func (s *Server) login(c *gin.Context) {
	var req loginRequest
	if !s.decodeJSON(c, &req) {
		return
	}
	if ok, retry := s.logins.allow(c.Request.Context(), c.ClientIP(), req.Username); !ok {
		s.rateLimited(c, retry)
		return
	}
	sess, err := s.deps.Accounts.Login(c.Request.Context(), req.Username, req.Password)
	if errors.Is(err, accounts.ErrBadCredentials) {
		s.recordLoginFailure(c, req.Username)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setSessionCookies(c, sess.Token, sess.ExpiresAt)
	c.Set(userIDKey, sess.User.ID)
	c.JSON(http.StatusOK, loginResponse{Token: sess.Token, ExpiresAt: sess.ExpiresAt, User: sess.User, CSRFToken: csrfFor(sess.Token)})
}

func (s *Server) logout(c *gin.Context) {
	if _, ok := requireUser(c); !ok {
		return
	}
	t := c.MustGet(tokenKey).(accounts.Token)
	if err := s.deps.Accounts.Logout(c.Request.Context(), t); err != nil {
		s.fail(c, err)
		return
	}
	s.clearCookies(c)
	c.Status(http.StatusNoContent)
}

func (s *Server) me(c *gin.Context) {
	u, ok := requireUser(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, u)
}

type tokenRequest struct {
	Name       string `json:"name"`
	ExpiresInS int64  `json:"expires_in_s"`
}

func (s *Server) createToken(c *gin.Context) {
	u, ok := requireUser(c)
	if !ok {
		return
	}
	var req tokenRequest
	if !s.decodeJSON(c, &req) {
		return
	}
	t, secret, err := s.deps.Accounts.CreateAPIToken(c.Request.Context(), u, c.MustGet(tokenKey).(accounts.Token), req.Name, time.Duration(req.ExpiresInS)*time.Second)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"id": t.ID, "token": secret, "name": t.Name, "expires_at": t.ExpiresAt})
}
