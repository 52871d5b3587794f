package sqlstore_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"docplat/accounts"
	"docplat/blob"
	"docplat/docs"
	"docplat/internal/wait"
	"docplat/jobs"
)

// previewRecorder stands in for package preview behind docs' preview
// hooks: it "makes" the previews of any content but those whose bytes
// say broken, which fail every attempt for a reason not the file's.
type previewRecorder struct {
	mu     sync.Mutex
	made   map[string]int
	gaveUp map[string]string
}

func (p *previewRecorder) preview(_ context.Context, sha, _ string, _ int64, body blob.Object) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if strings.Contains(string(b), "broken") {
		return errors.New("the converter would not start")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.made[sha]++
	return nil
}

func (p *previewRecorder) giveUp(_ context.Context, sha, _, reason string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gaveUp[sha] = reason
	return nil
}

// previewService is the document service with image previews made by rec,
// its jobs enqueued on c (none when c has no brokers).
func previewService(t *testing.T, e *env, c jobs.Config, rec *previewRecorder) *docs.Service {
	t.Helper()
	o := docs.Options{Logger: slog.New(slog.DiscardHandler), Preview: rec.preview, PreviewGaveUp: rec.giveUp,
		HasPreview: func(mime string) bool { return strings.HasPrefix(mime, "image/") }}
	if len(c.Brokers) > 0 {
		q, err := jobs.NewQueue(c)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(q.Close)
		o.Jobs = q
	}
	return docs.NewService(e.repo(t), e.blobs, o)
}

func runPreviewWorkers(t *testing.T, c jobs.Config, svc *docs.Service) {
	t.Helper()
	c.Logger = slog.New(slog.DiscardHandler)
	p, err := jobs.NewPool(c, map[string]jobs.Kind{docs.JobPreview: svc.PreviewKind()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func uploadImage(t *testing.T, e *env, svc *docs.Service, owner accounts.User, name, tail string) docs.Document {
	t.Helper()
	st, err := svc.Stage(strings.NewReader("\x89PNG\r\n\x1a\n"+tail), name+".png")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Discard()
	d, err := svc.Create(e.ctx, docs.Actor{UserID: owner.ID, DepartmentID: owner.DepartmentID}, docs.NewDocument{Title: name}, st)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func previewState(t *testing.T, e *env, id string) (state, reason string) {
	t.Helper()
	if err := e.db.SQL().QueryRowContext(e.ctx, "SELECT preview_state, preview_error FROM documents WHERE id = ?", id).Scan(&state, &reason); err != nil {
		t.Fatal(err)
	}
	return state, reason
}

// TestPreviewsReachAFinalState: an image's previews start pending and end
// done once its job ran; one whose job fails every attempt for a reason
// not the file's ends failed with the reason (recorded for readers too),
// not pending for ever; one whose job was lost (here: no queue at its
// upload, as for an image stored before previews had a state) is
// enqueued again by the sweep, once however many sweep, and ends done.
// A text has no previews to wait for.
func TestPreviewsReachAFinalState(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.user(t, "teacher", accounts.RoleMember, "")
		rec := &previewRecorder{made: map[string]int{}, gaveUp: map[string]string{}}
		c := textQueue(t)
		lost := uploadImage(t, e, previewService(t, e, jobs.Config{}, rec), owner, "lost", "a diagram whose job was lost")
		svc := previewService(t, e, c, rec)
		runPreviewWorkers(t, c, svc)

		good := uploadImage(t, e, svc, owner, "good", "a diagram")
		bad := uploadImage(t, e, svc, owner, "bad", "a broken diagram")
		text := upload(t, e, svc, owner, "notes", "no pages")
		wait.For(t, wait.Limit, "the good image's previews done", func() bool { s, _ := previewState(t, e, good.ID); return s == "done" })
		wait.For(t, wait.Limit, "the broken image's previews failed", func() bool { s, _ := previewState(t, e, bad.ID); return s == "failed" })
		if _, reason := previewState(t, e, bad.ID); !strings.Contains(reason, "would not start") {
			t.Fatalf("the failed previews' reason: %q", reason)
		}
		rec.mu.Lock()
		gaveUp := rec.gaveUp[bad.SHA256]
		rec.mu.Unlock()
		if !strings.Contains(gaveUp, "would not start") {
			t.Fatalf("the previews' failure was not recorded for readers: %q", gaveUp)
		}
		if s, _ := previewState(t, e, text.ID); s != "none" {
			t.Fatalf("a text's preview state %q, want none", s)
		}

		if s, _ := previewState(t, e, lost.ID); s != "pending" {
			t.Fatalf("the image uploaded without a queue: preview state %q, want pending", s)
		}
		if n, err := svc.SweepPendingPreviews(e.ctx, time.Hour); err != nil || n != 0 {
			t.Fatalf("a sweep with a bound of 1h enqueued %d (%v): the upload is younger", n, err)
		}
		// As migration 00190 leaves a row stored before: due at once.
		if _, err := e.db.SQL().ExecContext(e.ctx, "UPDATE documents SET preview_state_at = NULL WHERE id = ?", lost.ID); err != nil {
			t.Fatal(err)
		}
		counts := make(chan int, 2)
		for range 2 {
			go func() {
				n, err := svc.SweepPendingPreviews(e.ctx, time.Minute)
				if err != nil {
					t.Error(err)
				}
				counts <- n
			}()
		}
		if a, b := <-counts, <-counts; a+b != 1 {
			t.Fatalf("two sweeps enqueued %d and %d, want the lost image once", a, b)
		}
		wait.For(t, wait.Limit, "the swept image's previews done", func() bool { s, _ := previewState(t, e, lost.ID); return s == "done" })
		if n, err := svc.SweepPendingPreviews(e.ctx, 0); err != nil || n != 0 {
			t.Fatalf("a sweep after everything settled enqueued %d (%v)", n, err)
		}
	})
}
