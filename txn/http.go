package txn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"docplat/internal/internalapi"
)

// The HTTP transport carries the protocol between processes:
//
//	POST {base}/internal/txn/participants/{name}/{cancommit|precommit|docommit|abort}  {"txid","payload","peers"}
//	GET  {base}/internal/txn/participants/{name}/state?txid=
//	GET  {base}/internal/txn/coordinator/status?txid=
//
// Every request carries the shared secret in internalapi.Header.

type wireRequest struct {
	Txid    string   `json:"txid"`
	Payload []byte   `json:"payload,omitempty"`
	Peers   []string `json:"peers,omitempty"`
}

type wireResponse struct {
	Vote     *Vote    `json:"vote,omitempty"`
	State    State    `json:"state,omitempty"`
	Decision Decision `json:"decision,omitempty"`
	Error    string   `json:"error,omitempty"`
	Refused  bool     `json:"refused,omitempty"`
}

// Handler serves the participants and, if coord is not nil, the
// coordinator's status, to other processes.
func HTTPHandler(participants map[string]Participant, coord StatusSource, secret string) http.Handler {
	mux := http.NewServeMux()
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if !internalapi.Authorized(r, secret) {
				writeWire(w, http.StatusUnauthorized, wireResponse{Error: "missing or wrong " + internalapi.Header})
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("POST /internal/txn/participants/{name}/{op}", auth(func(w http.ResponseWriter, r *http.Request) {
		p := participants[r.PathValue("name")]
		if p == nil {
			writeWire(w, http.StatusNotFound, wireResponse{Error: "unknown participant"})
			return
		}
		var req wireRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 16<<20)).Decode(&req); err != nil || req.Txid == "" {
			writeWire(w, http.StatusBadRequest, wireResponse{Error: "body must be {\"txid\",...}"})
			return
		}
		var resp wireResponse
		var err error
		switch r.PathValue("op") {
		case "cancommit":
			var v Vote
			v, err = p.CanCommit(r.Context(), req.Txid, req.Payload, req.Peers)
			resp.Vote = &v
		case "precommit":
			err = p.PreCommit(r.Context(), req.Txid)
		case "docommit":
			err = p.DoCommit(r.Context(), req.Txid)
		case "abort":
			err = p.Abort(r.Context(), req.Txid)
		default:
			writeWire(w, http.StatusNotFound, wireResponse{Error: "unknown operation"})
			return
		}
		if err != nil {
			writeWire(w, http.StatusConflict, wireResponse{Error: err.Error(), Refused: errors.Is(err, ErrRefused)})
			return
		}
		writeWire(w, http.StatusOK, resp)
	}))
	mux.HandleFunc("GET /internal/txn/participants/{name}/state", auth(func(w http.ResponseWriter, r *http.Request) {
		p := participants[r.PathValue("name")]
		if p == nil {
			writeWire(w, http.StatusNotFound, wireResponse{Error: "unknown participant"})
			return
		}
		s, err := p.State(r.Context(), r.URL.Query().Get("txid"))
		if err != nil {
			writeWire(w, http.StatusServiceUnavailable, wireResponse{Error: err.Error()})
			return
		}
		writeWire(w, http.StatusOK, wireResponse{State: s})
	}))
	if coord != nil {
		mux.HandleFunc("GET /internal/txn/coordinator/status", auth(func(w http.ResponseWriter, r *http.Request) {
			d, err := coord.Status(r.Context(), r.URL.Query().Get("txid"))
			if err != nil {
				writeWire(w, http.StatusServiceUnavailable, wireResponse{Error: err.Error()})
				return
			}
			writeWire(w, http.StatusOK, wireResponse{Decision: d})
		}))
	}
	return mux
}

func writeWire(w http.ResponseWriter, status int, resp wireResponse) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}

// HTTPClient reaches participants and a coordinator in another process.
type HTTPClient struct {
	Base   string // e.g. http://127.0.0.1:8090
	Secret string
	Client *http.Client
}

func (c *HTTPClient) do(ctx context.Context, method, path string, body any) (wireResponse, error) {
	api := internalapi.Client{Base: c.Base, Secret: c.Secret, HTTP: c.Client, Timeout: 5 * time.Second}
	res, err := api.DoJSON(ctx, method, path, body)
	if err != nil {
		return wireResponse{}, err
	}
	defer res.Body.Close()
	var resp wireResponse
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&resp); err != nil {
		return wireResponse{}, fmt.Errorf("txn http %s %s: status %d: %w", method, path, res.StatusCode, err)
	}
	if res.StatusCode != http.StatusOK {
		if resp.Refused {
			return resp, fmt.Errorf("%w: %s", ErrRefused, resp.Error)
		}
		return resp, fmt.Errorf("txn http %s %s: status %d: %s", method, path, res.StatusCode, resp.Error)
	}
	return resp, nil
}

// Participant returns the remote participant called name.
func (c *HTTPClient) Participant(name string) Participant { return &httpParticipant{c: c, name: name} }

// Status asks the remote coordinator (termination protocol).
func (c *HTTPClient) Status(ctx context.Context, txid string) (Decision, error) {
	resp, err := c.do(ctx, "GET", "/internal/txn/coordinator/status?txid="+url.QueryEscape(txid), nil)
	return resp.Decision, err
}

type httpParticipant struct {
	c    *HTTPClient
	name string
}

func (p *httpParticipant) path(op string) string {
	return "/internal/txn/participants/" + url.PathEscape(p.name) + "/" + op
}

func (p *httpParticipant) CanCommit(ctx context.Context, txid string, payload []byte, peers []string) (Vote, error) {
	resp, err := p.c.do(ctx, "POST", p.path("cancommit"), wireRequest{Txid: txid, Payload: payload, Peers: peers})
	if err != nil {
		return Vote{}, err
	}
	if resp.Vote == nil {
		return Vote{}, errors.New("txn http: no vote in the answer")
	}
	return *resp.Vote, nil
}

func (p *httpParticipant) PreCommit(ctx context.Context, txid string) error {
	_, err := p.c.do(ctx, "POST", p.path("precommit"), wireRequest{Txid: txid})
	return err
}

func (p *httpParticipant) DoCommit(ctx context.Context, txid string) error {
	_, err := p.c.do(ctx, "POST", p.path("docommit"), wireRequest{Txid: txid})
	return err
}

func (p *httpParticipant) Abort(ctx context.Context, txid string) error {
	_, err := p.c.do(ctx, "POST", p.path("abort"), wireRequest{Txid: txid})
	return err
}

func (p *httpParticipant) State(ctx context.Context, txid string) (State, error) {
	resp, err := p.c.do(ctx, "GET", "/internal/txn/participants/"+url.PathEscape(p.name)+"/state?txid="+url.QueryEscape(txid), nil)
	return resp.State, err
}
