package nginx

import (
	"encoding/json"
	"strings"

	"docplat/errs"
)

// errorPage is one error nginx answers itself on the public listener (a
// request it cannot parse, a blocked route, an upstream that is down). The
// app's own errors pass through untouched (proxy_intercept_errors is off);
// these are rendered into error_page locations so that every error a client
// sees has the contract's body, not nginx's HTML.
type errorPage struct {
	Status     int
	Code       errs.Code
	Message    string
	RetryAfter bool // 502/503/504: the contract's "failing dependency" answer
}

// errorPages are the statuses nginx produces on its own. 494 is nginx's
// "request header too large", sent to the client as 400.
var errorPages = []errorPage{
	{400, errs.BadRequest, "the request could not be parsed", false},
	{404, errs.NotFound, "no such resource", false},
	{405, errs.MethodNotAllowed, "method not allowed", false},
	{408, errs.BadRequest, "the request took too long to arrive", false},
	{413, errs.TooLarge, "the request body is too large", false},
	{414, errs.BadRequest, "the request URI is too long", false},
	{429, errs.RateLimited, "too many requests; retry later", false},
	{494, errs.BadRequest, "the request headers are too large", false},
	{500, errs.Internal, "internal error", false},
	{502, errs.Unavailable, "the service is unavailable; retry", true},
	{503, errs.Unavailable, "the service is unavailable; retry", true},
	{504, errs.Unavailable, "the service did not answer in time; retry", true},
}

// Body is the contract's error body as server/errors.go writes it (Go's
// json.Encoder: field order kept, trailing newline).
func (p errorPage) Body() string {
	b, _ := json.Marshal(struct {
		Error struct {
			Code    errs.Code `json:"code"`
			Message string    `json:"message"`
		} `json:"error"`
	}{Error: struct {
		Code    errs.Code `json:"code"`
		Message string    `json:"message"`
	}{p.Code, p.Message}})
	return string(b) + "\n"
}

// SentStatus is the status the client sees (nginx sends 494 as 400).
func (p errorPage) SentStatus() int {
	if p.Status == 494 {
		return 400
	}
	return p.Status
}

// Quoted is Body as a single-quoted nginx string.
func (p errorPage) Quoted() string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(p.Body()) + "'"
}
