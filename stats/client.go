package stats

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"docplat/depfail"
	"docplat/internal/internalapi"
)

// Client reaches a stats process (`docplat stats`) for reads; that process
// consumes the access topic itself.
type Client struct {
	Base   string
	Secret string
	HTTP   *http.Client
}

func (c *Client) call(ctx context.Context, method, path string, body, out any) error {
	api := internalapi.Client{Base: c.Base, Secret: c.Secret, HTTP: c.HTTP, Timeout: 10 * time.Second}
	res, err := api.DoJSON(ctx, method, path, body)
	if err != nil {
		if ctx.Err() == context.Canceled {
			return err // the caller went away; nothing failed
		}
		return depfail.Wrap("the stats service", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		var e errorBody
		_ = json.NewDecoder(io.LimitReader(res.Body, 1<<16)).Decode(&e)
		if res.StatusCode == http.StatusBadRequest && e.Error == ErrBadWindow.Error() {
			return ErrBadWindow
		}
		err := fmt.Errorf("stats service: %s %s: status %d: %s", method, path, res.StatusCode, e.Error)
		if res.StatusCode == http.StatusServiceUnavailable || res.StatusCode == http.StatusBadGateway || res.StatusCode == http.StatusGatewayTimeout {
			return depfail.Wrap("the stats service", err)
		}
		return err
	}
	return json.NewDecoder(io.LimitReader(res.Body, 32<<20)).Decode(out)
}

// DocumentStats asks the stats process.
func (c *Client) DocumentStats(ctx context.Context, id string) (DocumentStats, error) {
	var out DocumentStats
	err := c.call(ctx, "GET", "/internal/stats/documents/"+url.PathEscape(id), nil, &out)
	return out, err
}

// Top asks the stats process.
func (c *Client) Top(ctx context.Context, window string, limit int) ([]Ranked, error) {
	var out []Ranked
	err := c.call(ctx, "GET", "/internal/stats/top?window="+url.QueryEscape(window)+"&limit="+strconv.Itoa(limit), nil, &out)
	return out, err
}

// Departments asks the stats process.
func (c *Client) Departments(ctx context.Context, id string) ([]DepartmentUsage, error) {
	var out []DepartmentUsage
	err := c.call(ctx, "GET", "/internal/stats/departments?id="+url.QueryEscape(id), nil, &out)
	return out, err
}

// Ping checks that the stats process answers.
func (c *Client) Ping(ctx context.Context) error {
	var out map[string]int64
	return c.call(ctx, "GET", "/internal/stats/ping", nil, &out)
}
