package stats_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"docplat/events"
	"docplat/internal/envflag"
	"docplat/internal/testhttp"
	"docplat/internal/wait"
	"docplat/stats"
)

// parseProcess is the stats process's flags parsed from args and env.
func parseProcess(t *testing.T, env map[string]string, args ...string) (*envflag.Set, *stats.ProcessConfig) {
	t.Helper()
	var c stats.ProcessConfig
	b := envflag.New("stats", "DOCPLAT_", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	c.Bind(b)
	if err := b.Parse(args); err != nil {
		t.Fatal(err)
	}
	return b, &c
}

// complete is what the stats process needs to start.
var complete = []string{"--internal-secret", "0123456789abcdef", "--kafka-brokers", "127.0.0.1:9092", "--coordinator-url", "http://127.0.0.1:8080"}

// TestProcessConfigNamesTheFlagOfEveryProblem: each bad setting is
// reported with the flag that sets it.
func TestProcessConfigNamesTheFlagOfEveryProblem(t *testing.T) {
	b, c := parseProcess(t, nil, complete...)
	if err := b.Check(c.Validate(b)); err != nil {
		t.Fatalf("complete settings: %v", err)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"--internal-secret (DOCPLAT_INTERNAL_SECRET)", "--kafka-brokers (DOCPLAT_KAFKA_BROKERS)", "--coordinator-url (DOCPLAT_COORDINATOR_URL)"}},
		{[]string{"--internal-secret", "short"}, []string{"internal-secret must be at least 16 characters"}},
		{[]string{"--txn-timeout", "10ms"}, []string{"txn-timeout must be at least 100ms"}},
		{[]string{"--db-max-conns", "1"}, []string{"db-max-conns must be between 2 and 10000"}},
		{[]string{"--kafka-brokers", "nohost"}, []string{`kafka-brokers lists "nohost"`}},
		{[]string{"--kafka-topic", "bad topic"}, []string{`kafka-topic "bad topic" must be`}},
		{[]string{"--kafka-session-timeout", "1ms"}, []string{"kafka-session-timeout must be between 500ms and 5m"}},
		{[]string{"--stats-flush-interval", "2m"}, []string{"stats-flush-interval must be between 10ms and 1m"}},
		{[]string{"--data-dir", ""}, []string{"data-dir must not be empty"}},
	} {
		args := tc.args
		if len(args) > 0 {
			args = append(append([]string{}, complete...), args...)
		}
		b, c := parseProcess(t, nil, args...)
		err := b.Check(c.Validate(b))
		for _, want := range tc.want {
			if err == nil || strings.Count(err.Error(), want) != 1 {
				t.Errorf("%v: %v, want %q once", tc.args, err, want)
			}
		}
	}
}

// TestProcessServesUntilItsContextEnds runs the stats process on its
// embedded database and a development broker: it answers /healthz, and
// returns without an error once told to stop.
func TestProcessServesUntilItsContextEnds(t *testing.T) {
	broker, err := events.StartBroker(t.Context(), events.BrokerConfig{Topic: "docplat.access"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close)
	addr := testhttp.FreeAddr(t)
	_, c := parseProcess(t, map[string]string{"DOCPLAT_KAFKA_BROKERS": strings.Join(broker.Addrs(), ",")},
		"--data-dir", t.TempDir(), "--stats-addr", addr, "--internal-secret", "0123456789abcdef",
		"--coordinator-url", "http://127.0.0.1:1", "--shutdown-timeout", "2s", "--kafka-session-timeout", "1s")
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- stats.RunProcess(ctx, *c, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	wait.For(t, wait.Limit, "the stats process to answer /healthz", func() bool {
		select {
		case err := <-done:
			t.Fatalf("the stats process stopped: %v", err)
		default:
		}
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	stop()
	wait.Returned(t, done, "RunProcess")
}
