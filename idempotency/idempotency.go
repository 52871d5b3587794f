// Package idempotency keeps the first outcome of a write made under an
// Idempotency-Key, so that a retry (after a timeout, a 502 from a killed
// instance, a lost answer) gets that outcome instead of doing the write
// again. Records live in the documents database: they survive restarts and
// every instance sees them. A record is claimed before the write runs
// (a lease, so a duplicate in flight is recognised), marked by the
// documents participant's commit in the same local transaction as the
// change (MarkCommitted), and completed with the answer once it is sent.
//
// A record is bound to its request: the method and path (Begin refuses
// another as Mismatch) and a Fingerprint of what determines the write,
// stored with the commit mark or the recorded answer. A retry is answered
// the first outcome only if SameRequest says its fingerprint is the one
// stored; records without one (made before fingerprints were kept) compare
// method and path only. It never reads a request body: callers digest what
// they already hold (a streamed upload's sha256, the parsed fields).
package idempotency

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"docplat/errs"
	"docplat/internal/periodic"
)

// Defaults (Options).
const (
	DefaultRetention = 24 * time.Hour
	// DefaultLease covers a write's whole protocol: the coordinator's
	// commit wait (20 s) and the participants' timeouts, with room. A
	// claim whose lease passed without a commit mark belongs to a write
	// that did not commit, so a retry may run it again.
	DefaultLease = 2 * time.Minute
	// InDoubtLease is how long a claim is held after an answer that left
	// the write in doubt: recovery decides it well within that, and the
	// commit mark then answers the retry.
	InDoubtLease = 10 * time.Minute
)

// validKey: what a client may send (UUIDs, ULIDs, base64 and the like).
var validKey = regexp.MustCompile(`^[A-Za-z0-9._:+/=-]{8,128}$`)

// ErrInvalidKey: the header is not a key this service accepts (errs.BadRequest).
var ErrInvalidKey = errs.New(errs.BadRequest, "Idempotency-Key must be 8 to 128 characters of A-Z a-z 0-9 . _ : + / = -")

// CheckKey validates a client's key: nil, or ErrInvalidKey.
func CheckKey(key string) error {
	if !validKey.MatchString(key) {
		return ErrInvalidKey
	}
	return nil
}

// Response is a recorded answer.
type Response struct {
	Status int
	Header map[string]string // the few headers worth replaying (Content-Type, Location, ETag)
	Body   []byte
}

// Verdict says what to do with a request that carries a key.
type Verdict int

const (
	Run       Verdict = iota // the claim is this request's: do the write
	Replay                   // answer Claim.Response
	Committed                // the write committed but its answer was not recorded: rebuild it from Claim.DocumentID
	InFlight                 // another request with this key is running
	Mismatch                 // the key was used for a different request (method or path)
)

// Claim is the outcome of Begin.
type Claim struct {
	Verdict    Verdict
	Response   Response
	DocumentID string
	// Fingerprint is the stored fingerprint of the request a Replay or
	// Committed claim answers ("" if none was recorded).
	Fingerprint string
}

// Options configure a Store. Zero values take the defaults.
type Options struct {
	Retention  time.Duration
	Lease      time.Duration
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// Store keeps the records in the documents database.
type Store struct {
	db     *gorm.DB
	mysql  bool
	opt    Options
	now    func() time.Time
	claims *prometheus.CounterVec
	checks *prometheus.CounterVec
}

// New returns a store over db (the documents database, migrated).
func New(db *gorm.DB, opt Options) *Store {
	if opt.Retention <= 0 {
		opt.Retention = DefaultRetention
	}
	if opt.Lease <= 0 {
		opt.Lease = DefaultLease
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	s := &Store{db: db, mysql: db.Dialector.Name() == "mysql", opt: opt, now: func() time.Time { return time.Now().UTC() },
		claims: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "docplat_idempotency_requests_total",
			Help: "Writes that carried an Idempotency-Key, by verdict (run, replay, committed: rebuilt from the commit mark, in_flight, mismatch).",
		}, []string{"verdict"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "docplat_idempotency_fingerprint_checks_total",
			Help: "Retries compared with the request their key's outcome answers, by result (same: replayed; differs: refused 422; unrecorded: the record predates fingerprints, method and path compared only).",
		}, []string{"result"})}
	if opt.Registerer != nil {
		opt.Registerer.MustRegister(s.claims, s.checks)
	}
	return s
}

// Retention is how long an outcome is kept.
func (s *Store) Retention() time.Duration { return s.opt.Retention }

type row struct {
	UserID      string
	IdemKey     string
	Request     string
	State       string
	LeaseUntil  time.Time
	DocumentID  *string
	Fingerprint *string
	Status      int
	Header      string
	Body        []byte
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

func (row) TableName() string { return "idempotency_keys" }

const (
	stateRunning = "running"
	stateDone    = "done"
)

func (s *Store) insertIgnore(ctx context.Context, r row) (bool, error) {
	verb := "INSERT OR IGNORE"
	if s.mysql {
		verb = "INSERT IGNORE"
	}
	res := s.db.WithContext(ctx).Exec(verb+` INTO idempotency_keys
		(user_id, idem_key, request, state, lease_until, document_id, status, header, body, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, NULL, 0, '', ?, ?, ?)`,
		r.UserID, r.IdemKey, r.Request, r.State, r.LeaseUntil, []byte{}, r.CreatedAt, r.ExpiresAt)
	return res.RowsAffected == 1, res.Error
}

// Begin claims (user, key) for request (method and path), or says why not.
func (s *Store) Begin(ctx context.Context, user, key, request string) (Claim, error) {
	c, err := s.begin(ctx, user, key, request)
	if err == nil {
		s.claims.WithLabelValues([...]string{"run", "replay", "committed", "in_flight", "mismatch"}[c.Verdict]).Inc()
	}
	return c, err
}

func (s *Store) begin(ctx context.Context, user, key, request string) (Claim, error) {
	for attempt := 0; attempt < 3; attempt++ {
		now := s.now()
		inserted, err := s.insertIgnore(ctx, row{UserID: user, IdemKey: key, Request: request, State: stateRunning,
			LeaseUntil: now.Add(s.opt.Lease), CreatedAt: now, ExpiresAt: now.Add(s.opt.Retention)})
		if err != nil {
			return Claim{}, fmt.Errorf("idempotency: claiming: %w", err)
		}
		if inserted {
			return Claim{Verdict: Run}, nil
		}
		var r row
		err = s.db.WithContext(ctx).Where("user_id = ? AND idem_key = ?", user, key).Take(&r).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			continue // collected meanwhile
		}
		if err != nil {
			return Claim{}, fmt.Errorf("idempotency: reading: %w", err)
		}
		switch {
		case !r.ExpiresAt.After(now):
			// Past its retention: the key starts afresh.
			s.db.WithContext(ctx).Where("user_id = ? AND idem_key = ? AND expires_at = ?", user, key, r.ExpiresAt).Delete(&row{})
			continue
		case r.Request != request:
			return Claim{Verdict: Mismatch}, nil
		case r.State == stateDone:
			return Claim{Verdict: Replay, Fingerprint: deref(r.Fingerprint),
				Response: Response{Status: r.Status, Header: decodeHeader(r.Header), Body: r.Body}}, nil
		case r.DocumentID != nil:
			return Claim{Verdict: Committed, DocumentID: *r.DocumentID, Fingerprint: deref(r.Fingerprint)}, nil
		case r.LeaseUntil.After(now):
			return Claim{Verdict: InFlight}, nil
		}
		// The lease passed with no commit mark: the first attempt did not
		// commit (it died, or its answer was lost before it wrote). Take it over.
		res := s.db.WithContext(ctx).Model(&row{}).
			Where("user_id = ? AND idem_key = ? AND state = ? AND document_id IS NULL AND lease_until = ?", user, key, stateRunning, r.LeaseUntil).
			Update("lease_until", now.Add(s.opt.Lease))
		if res.Error != nil {
			return Claim{}, fmt.Errorf("idempotency: taking over: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			s.opt.Logger.InfoContext(ctx, "idempotency key taken over after its lease passed without a commit", "user_id", user)
			return Claim{Verdict: Run}, nil
		}
		return Claim{Verdict: InFlight}, nil
	}
	return Claim{Verdict: InFlight}, nil
}

// SameRequest reports whether a retry whose fingerprint is fingerprint is
// the request c's outcome answers, so that it may be replayed. A record
// without a fingerprint (made before they were kept, or of another
// fingerprint scheme) cannot tell: its method and path, already compared by
// Begin, decide.
func (s *Store) SameRequest(c Claim, fingerprint string) bool {
	switch {
	case c.Fingerprint == "" || !sameScheme(c.Fingerprint, fingerprint):
		s.checks.WithLabelValues("unrecorded").Inc()
		return true
	case c.Fingerprint == fingerprint:
		s.checks.WithLabelValues("same").Inc()
		return true
	}
	s.checks.WithLabelValues("differs").Inc()
	return false
}

func sameScheme(a, b string) bool {
	sa, _, _ := strings.Cut(a, ":")
	sb, _, _ := strings.Cut(b, ":")
	return sa == sb
}

// Finish records the answer sent for a claimed key and the fingerprint of
// the request it answers ("" leaves the stored one, if any).
func (s *Store) Finish(ctx context.Context, user, key, fingerprint string, resp Response) error {
	body := resp.Body
	if body == nil {
		body = []byte{}
	}
	set := map[string]any{"state": stateDone, "status": resp.Status, "header": encodeHeader(resp.Header), "body": body}
	if fingerprint != "" {
		set["fingerprint"] = fingerprint
	}
	return s.db.WithContext(context.WithoutCancel(ctx)).Model(&row{}).Where("user_id = ? AND idem_key = ?", user, key).
		Updates(set).Error
}

// Release drops a claim whose request changed nothing (it failed before
// committing), so that a retry runs the write. A claim the write's commit
// marked is kept.
func (s *Store) Release(ctx context.Context, user, key string) error {
	return s.db.WithContext(context.WithoutCancel(ctx)).
		Where("user_id = ? AND idem_key = ? AND state = ? AND document_id IS NULL", user, key, stateRunning).Delete(&row{}).Error
}

// Hold extends a claim's lease after an answer that left the write in
// doubt: until the commit mark appears or the lease passes, a retry is
// told the request is in flight.
func (s *Store) Hold(ctx context.Context, user, key string, d time.Duration) error {
	return s.db.WithContext(context.WithoutCancel(ctx)).Model(&row{}).
		Where("user_id = ? AND idem_key = ? AND state = ?", user, key, stateRunning).Update("lease_until", s.now().Add(d)).Error
}

// MarkCommitted records, inside the documents participant's local
// transaction tx, that the write claimed under (user, key) committed
// documentID's change, made by the request whose fingerprint is
// fingerprint ("" for a change made by an instance that kept none: the
// record then compares method and path only). A record that does not exist
// (collected, or no key) is not an error.
func MarkCommitted(tx *gorm.DB, user, key, documentID, fingerprint string) error {
	var fp *string
	if fingerprint != "" {
		fp = &fingerprint
	}
	return tx.Exec("UPDATE idempotency_keys SET document_id = ?, fingerprint = ? WHERE user_id = ? AND idem_key = ?",
		documentID, fp, user, key).Error
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Collect deletes records past their retention; it returns how many.
func (s *Store) Collect(ctx context.Context) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at < ?", s.now()).Delete(&row{})
	return res.RowsAffected, res.Error
}

// Run collects expired records every interval until ctx ends.
func (s *Store) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Minute
	}
	periodic.Run(ctx, every, func(ctx context.Context) {
		if n, err := s.Collect(ctx); err != nil {
			s.opt.Logger.Warn("collecting expired idempotency keys", "err", err)
		} else if n > 0 {
			s.opt.Logger.Info("collected expired idempotency keys", "count", n)
		}
	})
}

// The replayed headers, as "Name: value" lines.
func encodeHeader(h map[string]string) string {
	var b strings.Builder
	for k, v := range h {
		b.WriteString(k + ": " + v + "\n")
	}
	return b.String()
}

func decodeHeader(s string) map[string]string {
	h := map[string]string{}
	for line := range strings.SplitSeq(s, "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			h[k] = v
		}
	}
	return h
}
