package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"docplat/accounts"
	"docplat/docs"
	"docplat/events"
	"docplat/extract"
	"docplat/internal/failpoint"
	"docplat/internal/wait"
	"docplat/jobs"
)

// textQueue is a job queue on an in-memory development broker.
func textQueue(t *testing.T) jobs.Config {
	t.Helper()
	b, err := events.StartBroker(context.Background(), events.BrokerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	c := jobs.Config{Brokers: b.Addrs(), Topic: "docplat.jobs", Group: "workers", Partitions: 2, Workers: 1,
		MaxAttempts: 2, Backoff: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, JobTimeout: 10 * time.Second, SessionTimeout: time.Second}
	if err := jobs.EnsureTopics(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// textService is the document service over e's write path, enqueueing its
// extraction jobs on c (no queue when c has no brokers). Every upload's
// text goes to a job, plain text too: these tests watch the job path
// (TestAPlainTextUploadIsSearchableAtOnce the inline one).
func textService(t *testing.T, e *env, c jobs.Config, extractor docs.ExtractFunc) *docs.Service {
	t.Helper()
	o := docs.Options{Logger: slog.New(slog.DiscardHandler), Extract: extractor,
		ExtractInline: func(string, int64) bool { return false }}
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

// runWorkers runs a pool of the extraction jobs of svc until cleanup.
func runWorkers(t *testing.T, c jobs.Config, svc *docs.Service) {
	t.Helper()
	c.Logger = slog.New(slog.DiscardHandler)
	p, err := jobs.NewPool(c, map[string]jobs.Kind{docs.JobExtract: svc.ExtractKind()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func upload(t *testing.T, e *env, svc *docs.Service, owner accounts.User, title, body string) docs.Document {
	t.Helper()
	st, err := svc.Stage(strings.NewReader(body), title+".txt")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Discard()
	d, err := svc.Create(e.ctx, docs.Actor{UserID: owner.ID, DepartmentID: owner.DepartmentID}, docs.NewDocument{Title: title}, st)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func replace(t *testing.T, e *env, svc *docs.Service, owner accounts.User, id, body string) docs.Document {
	t.Helper()
	st, err := svc.Stage(strings.NewReader(body), "v.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Discard()
	d, err := svc.ReplaceContent(e.ctx, docs.Actor{UserID: owner.ID, DepartmentID: owner.DepartmentID}, id, docs.Precondition{}, st)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// found reports whether an admin's search for term finds id.
func found(t *testing.T, e *env, term, id string) bool {
	t.Helper()
	items, _ := e.list(t, docs.Actor{UserID: "admin", Admin: true}, docs.Query{Terms: []string{term}, Sort: docs.SortRelevance})
	for _, d := range items {
		if d.ID == id {
			return true
		}
	}
	return false
}

func textState(t *testing.T, e *env, id string) docs.Document {
	t.Helper()
	d, err := e.db.Documents().Get(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestAnUploadsBodyIsSearchableOnceExtracted: the commit stores the
// document pending, found by its title at once; the job writes the body
// into the index and the state ready, in the same revision (what clients
// hold does not change; the caches tell the two apart by docs.Fence).
func TestAnUploadsBodyIsSearchableOnceExtracted(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.user(t, "teacher", accounts.RoleMember, "")
		c := textQueue(t)
		release := make(chan struct{})
		svc := textService(t, e, c, func(ctx context.Context, path, mime string, limit int64) (string, error) {
			<-release // the extraction waits until the test has looked at the pending state
			return extract.Text(ctx, path, mime, limit)
		})
		runWorkers(t, c, svc)
		d := upload(t, e, svc, owner, "mechanics handout", "Newton's laws and the quasarwave equation")
		if d.TextState != docs.TextPending || textState(t, e, d.ID).TextState != docs.TextPending {
			t.Fatalf("text state %q right after the upload, want pending", d.TextState)
		}
		if !found(t, e, "mechanics", d.ID) {
			t.Fatal("the title is not searchable right after the upload")
		}
		if found(t, e, "quasarwave", d.ID) {
			t.Fatal("the body was searchable before its extraction")
		}
		close(release)
		// On MariaDB the index write (Mroonga, not transactional) is seen a
		// moment before the row's state commits.
		wait.For(t, wait.Limit, "the body to be searchable and the text ready", func() bool {
			return found(t, e, "quasarwave", d.ID) && textState(t, e, d.ID).TextState == docs.TextReady
		})
		got := textState(t, e, d.ID)
		if got.TextState != docs.TextReady || got.Revision != d.Revision {
			t.Fatalf("after extraction: state %q revision %d, want ready, %d", got.TextState, got.Revision, d.Revision)
		}
		if docs.Fence(got) <= docs.Fence(d) {
			t.Fatalf("the fence of the extracted document (%d) is not above the pending one's (%d)", docs.Fence(got), docs.Fence(d))
		}
		if !found(t, e, "mechanics", d.ID) {
			t.Fatal("the title is no longer searchable after the extraction")
		}
	})
}

// TestALateExtractionNeverOverwritesANewerVersion: the job of version 1,
// run after version 2 was uploaded, changes nothing; version 2's job
// writes version 2's text.
func TestALateExtractionNeverOverwritesANewerVersion(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.user(t, "teacher", accounts.RoleMember, "")
		svc := textService(t, e, jobs.Config{}, nil) // no queue: the test runs the jobs itself
		v1 := upload(t, e, svc, owner, "notes", "the first draft mentions oldterm")
		v2 := replace(t, e, svc, owner, v1.ID, "the second version mentions newterm")
		late := jobs.Job{Kind: docs.JobExtract, DocumentID: v1.ID, Version: v1.Version, SHA256: v1.SHA256, Mime: v1.Mime, Attempt: 1}
		if err := svc.ExtractText(e.ctx, late); err != nil {
			t.Fatalf("the late job: %v", err)
		}
		if got := textState(t, e, v1.ID); got.TextState != docs.TextPending || got.Revision != v2.Revision {
			t.Fatalf("the late job changed the document: state %q revision %d", got.TextState, got.Revision)
		}
		if found(t, e, "oldterm", v1.ID) {
			t.Fatal("version 1's text was indexed after version 2 was uploaded")
		}
		if _, err := e.db.Documents().SetText(e.ctx, v1.ID, docs.TextResult{Version: 1, SHA256: v1.SHA256, State: docs.TextReady, Text: "oldterm"}); !errors.Is(err, docs.ErrTextStale) {
			t.Fatalf("the store took version 1's text: %v", err)
		}
		current := jobs.Job{Kind: docs.JobExtract, DocumentID: v1.ID, Version: v2.Version, SHA256: v2.SHA256, Mime: v2.Mime, Attempt: 1}
		if err := svc.ExtractText(e.ctx, current); err != nil {
			t.Fatal(err)
		}
		if !found(t, e, "newterm", v1.ID) || found(t, e, "oldterm", v1.ID) {
			t.Fatal("version 2's text is not the one indexed")
		}
		// The same job again (a redelivery) is a no-op.
		before := textState(t, e, v1.ID)
		if err := svc.ExtractText(e.ctx, current); err != nil {
			t.Fatalf("a duplicate job: %v", err)
		}
		if _, err := e.db.Documents().SetText(e.ctx, v1.ID, docs.TextResult{Version: v2.Version, SHA256: v2.SHA256, State: docs.TextReady, Text: "dupterm"}); !errors.Is(err, docs.ErrTextStale) {
			t.Fatalf("the store took a second outcome for a settled text: %v", err)
		}
		if after := textState(t, e, v1.ID); after.Revision != before.Revision || after.TextState != docs.TextReady || found(t, e, "dupterm", v1.ID) {
			t.Fatalf("a duplicate job changed the document: %+v", after)
		}
	})
}

// TestTheSweeperEnqueuesAPendingDocumentWhosePublishWasLost: the process
// "dies" between the commit and Kafka; the document stays pending until
// the sweeper enqueues it, then its body is found.
func TestTheSweeperEnqueuesAPendingDocumentWhosePublishWasLost(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.user(t, "teacher", accounts.RoleMember, "")
		c := textQueue(t)
		svc := textService(t, e, c, nil)
		var lost atomic.Int64
		failpoint.Enable(t, failpoint.DocsBeforeEnqueue, func(scope any) error {
			if scope != svc {
				return nil
			}
			lost.Add(1)
			return errors.New("killed before the publish")
		})
		runWorkers(t, c, svc)
		d := upload(t, e, svc, owner, "lost", "a lostpublish body")
		if lost.Load() != 1 {
			t.Fatal("the failpoint did not fire")
		}
		time.Sleep(300 * time.Millisecond) // what a worker would have needed
		if textState(t, e, d.ID).TextState != docs.TextPending {
			t.Fatal("the text is not pending although its job was lost")
		}
		if n, err := svc.SweepPendingText(e.ctx, time.Hour); err != nil || n != 0 {
			t.Fatalf("a sweep with a bound of 1h enqueued %d (%v): the upload is younger", n, err)
		}
		n, err := svc.SweepPendingText(e.ctx, 0)
		if err != nil || n != 1 {
			t.Fatalf("the sweep enqueued %d (%v), want 1", n, err)
		}
		wait.For(t, wait.Limit, "the swept document's body to be searchable and ready", func() bool {
			return found(t, e, "lostpublish", d.ID) && textState(t, e, d.ID).TextState == docs.TextReady
		})
		if n, err := svc.SweepPendingText(e.ctx, 0); err != nil || n != 0 {
			t.Fatalf("a second sweep enqueued %d (%v)", n, err)
		}
	})
}

// TestTwoSweepersClaimADocumentOnce: instances sweeping at once enqueue
// each pending document once.
func TestTwoSweepersClaimADocumentOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.user(t, "teacher", accounts.RoleMember, "")
		svc := textService(t, e, jobs.Config{}, nil)
		for i := range 5 {
			upload(t, e, svc, owner, fmt.Sprintf("doc %d", i), "body")
		}
		now := time.Now().UTC().Add(time.Minute)
		results := make(chan int, 2)
		for range 2 {
			go func() {
				ds, err := e.db.Documents().ClaimPendingText(e.ctx, now, now, 100)
				if err != nil {
					t.Error(err)
				}
				results <- len(ds)
			}()
		}
		if a, b := <-results, <-results; a+b != 5 {
			t.Fatalf("the two sweepers claimed %d and %d documents, want 5 in all", a, b)
		}
	})
}

// TestAFailedExtractionIsRecordedWithItsReason: after its last attempt
// the document's text is failed, the reason kept, and nothing else waits.
func TestAFailedExtractionIsRecordedWithItsReason(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.user(t, "teacher", accounts.RoleMember, "")
		c := textQueue(t)
		svc := textService(t, e, c, func(ctx context.Context, path, mime string, limit int64) (string, error) {
			body, err := extract.Text(ctx, path, mime, limit)
			if strings.Contains(body, "corrupt") {
				return "", errors.New("the file is corrupt")
			}
			return body, err
		})
		runWorkers(t, c, svc)
		bad := upload(t, e, svc, owner, "bad", "corrupt")
		good := upload(t, e, svc, owner, "good", "a healthy goodbody")
		wait.For(t, wait.Limit, "the good document's body", func() bool { return found(t, e, "goodbody", good.ID) })
		wait.For(t, wait.Limit, "the bad document to fail", func() bool { return textState(t, e, bad.ID).TextState == docs.TextFailed })
		var reason string
		if err := e.db.SQL().QueryRowContext(e.ctx, "SELECT text_error FROM documents WHERE id = ?", bad.ID).Scan(&reason); err != nil || reason != "the file is corrupt" {
			t.Fatalf("recorded reason %q (%v)", reason, err)
		}
	})
}

// inlineService is the document service as production configures it
// (plain text read in the upload), its text bound maxText (0: 1 MiB), with
// no queue: whatever is left pending stays so.
func inlineService(t *testing.T, e *env, maxText int64) *docs.Service {
	t.Helper()
	return docs.NewService(e.repo(t), e.blobs, docs.Options{Logger: slog.New(slog.DiscardHandler), MaxTextBytes: maxText})
}

// TestAPlainTextUploadIsSearchableAtOnce: a text upload's body is read in
// the upload and committed with it (one write, no job): ready in the
// answer, found by a body word as soon as the upload returns, a
// GB18030 file's words decoded as the extraction job decodes them, and a
// new version's text replacing the old at once. A text bigger than the
// text kept is left to a job.
func TestAPlainTextUploadIsSearchableAtOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.user(t, "teacher", accounts.RoleMember, "")
		svc := inlineService(t, e, 0)
		d := upload(t, e, svc, owner, "optics", "Snell's law and the inlinewave refraction")
		if d.TextState != docs.TextReady || textState(t, e, d.ID).TextState != docs.TextReady {
			t.Fatalf("text state %q right after the upload (stored %q), want ready", d.TextState, textState(t, e, d.ID).TextState)
		}
		if !found(t, e, "inlinewave", d.ID) {
			t.Fatal("the body is not searchable when the upload returns")
		}
		gb, err := simplifiedchinese.GB18030.NewEncoder().String("光学讲义：光的折射与反射。光从一种介质斜射入另一种介质时，传播方向会发生改变，这种现象叫做光的折射。\n")
		if err != nil {
			t.Fatal(err)
		}
		st, err := svc.Stage(strings.NewReader(gb), "讲义.txt")
		if err != nil {
			t.Fatal(err)
		}
		defer st.Discard()
		c, err := svc.Create(e.ctx, docs.Actor{UserID: owner.ID, DepartmentID: owner.DepartmentID}, docs.NewDocument{Title: "handout"}, st)
		if err != nil {
			t.Fatal(err)
		}
		if c.TextState != docs.TextReady || !strings.Contains(c.Mime, "gb18030") || !found(t, e, "折射", c.ID) {
			t.Fatalf("the GB18030 upload (%s, text %q) is not found by a word of its body", c.Mime, c.TextState)
		}
		v2 := replace(t, e, svc, owner, d.ID, "the second version says secondwave")
		if v2.TextState != docs.TextReady || !found(t, e, "secondwave", d.ID) || found(t, e, "inlinewave", d.ID) {
			t.Fatalf("the new version's text is not the one indexed (state %q)", v2.TextState)
		}

		small := inlineService(t, e, 16)
		big := upload(t, e, small, owner, "long", "a text longer than sixteen bytes: bigwave")
		if big.TextState != docs.TextPending || found(t, e, "bigwave", big.ID) {
			t.Fatalf("a text over the bound is %q (found: %v), want pending for a job", big.TextState, found(t, e, "bigwave", big.ID))
		}
	})
}
