package resumable

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/prometheuscollector"
	expslog "golang.org/x/exp/slog"

	"docplat/docs"
	"docplat/errs"
)

type actorKey struct{}

// WithActor returns ctx carrying the signed-in caller a request is made by
// (the server authenticates; the uploads trust what it says).
func WithActor(ctx context.Context, a docs.Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

func actorFrom(ctx context.Context) docs.Actor {
	a, _ := ctx.Value(actorKey{}).(docs.Actor)
	return a
}

// Protocol is the tus endpoint: POST BasePath creates an upload, HEAD
// BasePath+id gives its offset, PATCH appends to it, DELETE cancels it.
// Every refusal carries the contract's error body.
type Protocol struct {
	s      *Service
	tus    *handler.UnroutedHandler
	refuse Refuser
}

// Handler builds the tus endpoint; refuse renders errors as the contract does.
func (s *Service) Handler(refuse Refuser) (*Protocol, error) {
	composer := handler.NewStoreComposer()
	s.store.UseIn(composer)
	composer.UseCore(creating{dataStore: s.store, s: s})
	composer.UseLocker(tusLocker{locks: s.locks, wait: s.opt.LockWait})
	p := &Protocol{s: s, refuse: refuse}
	s.refuser = refuse
	tus, err := handler.NewUnroutedHandler(handler.Config{
		BasePath:      BasePath,
		StoreComposer: composer,
		MaxSize:       s.docs.MaxUploadBytes(),
		// Downloads are the documents' content routes; an upload is read
		// only by its finish. Concatenation is not offered.
		DisableDownload:           true,
		DisableConcatenation:      true,
		PreUploadCreateCallback:   p.preCreate,
		PreFinishResponseCallback: p.preFinish,
		PreUploadTerminateCallback: func(hook handler.HookEvent) (handler.HTTPResponse, error) {
			return handler.HTTPResponse{}, p.terminate(hook)
		},
		AcquireLockTimeout: s.opt.LockWait + time.Second,
		Cors:               &handler.CorsConfig{Disable: true},                   // same origin as the UI
		Logger:             expslog.New(expslog.NewTextHandler(io.Discard, nil)), // the server logs every request
	})
	if err != nil {
		return nil, err
	}
	p.tus = tus
	if s.opt.Registerer != nil {
		// tusd's own counters (tusd_requests_total, tusd_errors_total,
		// tusd_bytes_received, tusd_uploads_*) beside docplat's.
		if err := s.opt.Registerer.Register(prometheuscollector.New(tus.Metrics)); err != nil {
			return nil, err
		}
		if st, ok := s.store.(*s3Data); ok {
			st.registerMetrics(s.opt.Registerer) // tusd_s3_request_duration_ms by operation, ...
		}
	}
	return p, nil
}

// ServeHTTP serves the tus endpoint for the caller in the request's
// context (WithActor); the server has already refused the anonymous.
func (p *Protocol) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := strings.Trim(strings.TrimPrefix(r.URL.Path, strings.TrimSuffix(BasePath, "/")), "/")
	tw := &tusWriter{ResponseWriter: w}
	defer tw.flush(r, p)
	if r.Method == http.MethodOptions {
		p.tus.Middleware(http.NotFoundHandler()).ServeHTTP(tw, r)
		return
	}
	if id == "" {
		if r.Method != http.MethodPost {
			tw.refuse(r, p, errs.New(errs.MethodNotAllowed, "POST creates an upload here; HEAD, PATCH and DELETE take its id"))
			return
		}
		p.tus.Middleware(http.HandlerFunc(p.tus.PostFile)).ServeHTTP(tw, stripped(r, ""))
		return
	}
	a := actorFrom(r.Context())
	rec, err := p.s.owned(r.Context(), a, id)
	if err == nil {
		w.Header().Set("Upload-Expires", rec.ExpiresAt.UTC().Format(http.TimeFormat))
		err = p.gate(tw, r, rec)
	}
	if err != nil {
		tw.refuse(r, p, err)
		return
	}
	if tw.answered {
		return
	}
	var h http.HandlerFunc
	switch r.Method {
	case http.MethodHead:
		h = p.tus.HeadFile
	case http.MethodPatch:
		h = p.tus.PatchFile
	case http.MethodDelete:
		h = p.tus.DelFile
	default:
		tw.refuse(r, p, errs.New(errs.MethodNotAllowed, "an upload takes HEAD, PATCH and DELETE (GET /api/v1/uploads/{id} gives its state)"))
		return
	}
	p.tus.Middleware(h).ServeHTTP(tw, stripped(r, id))
}

// gate answers what the record decides before tusd is asked: an expired
// upload is gone; a finished one's HEAD says it is complete (its data is
// removed), so that a client whose last answer was lost does not start
// over; a refused one repeats its refusal; a PATCH must be
// application/offset+octet-stream.
func (p *Protocol) gate(w *tusWriter, r *http.Request, rec record) error {
	switch {
	case rec.State == Uploading && !rec.ExpiresAt.After(p.s.now()):
		return ErrExpired
	case rec.State == Done && r.Method == http.MethodHead:
		h := w.Header()
		h.Set("Tus-Resumable", "1.0.0")
		h.Set("Upload-Offset", strconv.FormatInt(rec.Size, 10))
		h.Set("Upload-Length", strconv.FormatInt(rec.Size, 10))
		h.Set("Cache-Control", "no-store")
		setDone(h, *rec.DocumentID)
		w.WriteHeader(http.StatusOK)
		w.answered = true
		return nil
	case rec.State == Done:
		return ErrFinished
	case rec.State == Failed:
		h := w.Header()
		h.Set("Content-Type", "application/json")
		w.WriteHeader(rec.ErrorStatus)
		if r.Method != http.MethodHead {
			_, _ = w.Write([]byte(rec.ErrorBody))
		}
		w.answered = true
		return nil
	case r.Method == http.MethodPatch:
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/offset+octet-stream" {
			return errs.New(errs.UnsupportedType, "a PATCH to an upload must be Content-Type: application/offset+octet-stream")
		}
	}
	return nil
}

func setDone(h http.Header, documentID string) {
	h.Set("Upload-State", string(Done))
	h.Set("Upload-Document-Id", documentID)
	h.Set("Location", "/api/v1/documents/"+documentID)
}

// stripped is r with its path as tusd's unrouted handler reads it: the id.
func stripped(r *http.Request, id string) *http.Request {
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + id
	r2.URL.RawPath = ""
	return r2
}

// refusal is err as tusd sends it: the contract's answer.
func (p *Protocol) refusal(ctx context.Context, err error) handler.Error {
	resp := p.refuse(ctx, err)
	return handler.Error{ErrorCode: string(errs.CodeOf(err)), Message: errs.MessageOf(err), HTTPResponse: resp}
}

func (p *Protocol) preCreate(hook handler.HookEvent) (handler.HTTPResponse, handler.FileInfoChanges, error) {
	rec, err := p.s.create(hook.Context, actorFrom(hook.Context), hook.Upload, hook.HTTPRequest.Header)
	if err != nil {
		return handler.HTTPResponse{}, handler.FileInfoChanges{}, p.refusal(hook.Context, err)
	}
	return handler.HTTPResponse{Header: handler.HTTPHeader{"Upload-Expires": rec.ExpiresAt.UTC().Format(http.TimeFormat)}},
		handler.FileInfoChanges{ID: rec.ID, MetaData: handler.MetaData{"filename": rec.meta().Filename}}, nil
}

// preFinish runs when the last byte arrived, in that PATCH (holding the
// upload's lock): the document is written before the client is answered,
// and the answer says which (Upload-Document-Id, Location) or why not.
func (p *Protocol) preFinish(hook handler.HookEvent) (handler.HTTPResponse, error) {
	// The client going away must not cut a commit in half.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(hook.Context), 5*time.Minute)
	defer cancel()
	rec, err := p.s.load(ctx, hook.Upload.ID)
	if err == nil {
		rec, err = p.s.finish(ctx, actorFrom(hook.Context), rec)
	}
	switch {
	case err != nil:
		return handler.HTTPResponse{}, p.refusal(ctx, err)
	case rec.State == Failed:
		return handler.HTTPResponse{}, handler.Error{ErrorCode: "refused", Message: "refused at the end",
			HTTPResponse: handler.HTTPResponse{StatusCode: rec.ErrorStatus, Body: rec.ErrorBody, Header: handler.HTTPHeader{"Content-Type": "application/json"}}}
	}
	h := http.Header{}
	setDone(h, *rec.DocumentID)
	out := handler.HTTPHeader{}
	for k := range h {
		out[k] = h.Get(k)
	}
	return handler.HTTPResponse{Header: out}, nil
}

func (p *Protocol) terminate(hook handler.HookEvent) error {
	if err := p.s.cancel(hook.Context, hook.Upload.ID); err != nil {
		return p.refusal(hook.Context, err)
	}
	return nil
}

func newUploadID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// tusWriter turns tusd's own plain-text errors (bad offset, not found,
// locked...) into the contract's error body, so that every refusal of
// the endpoint reads alike. Answers from docplat's refusals are JSON
// already and pass through.
type tusWriter struct {
	http.ResponseWriter
	status   int
	held     bool // a plain-text error being rewritten
	body     bytes.Buffer
	answered bool
}

func (w *tusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *tusWriter) WriteHeader(status int) {
	if w.status != 0 {
		return
	}
	w.status = status
	if status >= 400 && strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		w.held = true
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *tusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.held {
		return w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// refuse answers err through the server's rendering.
func (w *tusWriter) refuse(r *http.Request, p *Protocol, err error) {
	resp := p.refuse(r.Context(), err)
	h := w.Header()
	for k, v := range resp.Header {
		h.Set(k, v)
	}
	h.Del("Content-Length")
	w.status = resp.StatusCode
	w.ResponseWriter.WriteHeader(resp.StatusCode)
	if r.Method != http.MethodHead {
		_, _ = w.ResponseWriter.Write([]byte(resp.Body))
	}
	w.answered = true
}

// codeOfTusStatus is the contract's code for a status tusd answered itself.
var codeOfTusStatus = map[int]errs.Code{
	http.StatusBadRequest:            errs.BadRequest,
	http.StatusForbidden:             errs.Forbidden,
	http.StatusNotFound:              errs.NotFound,
	http.StatusConflict:              errs.Conflict, // Upload-Offset is not the upload's offset
	http.StatusLocked:                errs.Conflict, // another request is writing it: retry
	http.StatusPreconditionFailed:    errs.BadRequest,
	http.StatusRequestEntityTooLarge: errs.TooLarge,
	http.StatusUnsupportedMediaType:  errs.UnsupportedType,
	http.StatusServiceUnavailable:    errs.Unavailable,
}

// flush rewrites a held tusd error. Its status is kept when it is tus's
// own signal (423 locked, 409 offset, 412 protocol version) so tus
// clients act on it as the protocol says; the body is the contract's.
func (w *tusWriter) flush(r *http.Request, p *Protocol) {
	if !w.held {
		return
	}
	code, ok := codeOfTusStatus[w.status]
	if !ok {
		code = errs.Internal
	}
	msg := strings.TrimSpace(w.body.String())
	if _, m, found := strings.Cut(msg, ": "); found {
		msg = m
	}
	if msg == "" { // a HEAD's: tusd sends no body
		msg = strings.ToLower(http.StatusText(w.status))
	}
	resp := p.refuse(r.Context(), errs.New(code, "upload: "+msg))
	h := w.Header()
	for k, v := range resp.Header {
		h.Set(k, v)
	}
	h.Set("Content-Length", strconv.Itoa(len(resp.Body)))
	w.ResponseWriter.WriteHeader(w.status)
	if r.Method != http.MethodHead {
		_, _ = w.ResponseWriter.Write([]byte(resp.Body))
	}
}
