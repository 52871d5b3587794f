package hotspot

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"docplat/events"
	"docplat/internal/envflag"
	"docplat/internal/testhttp"
	"docplat/internal/wait"
	"docplat/redisembed"
)

// parseProcess is the detector process's flags parsed from args.
func parseProcess(t *testing.T, args ...string) (*envflag.Set, *ProcessConfig) {
	t.Helper()
	var c ProcessConfig
	b := envflag.New("hotspot", "DOCPLAT_", func(string) (string, bool) { return "", false })
	c.Bind(b)
	if err := b.Parse(args); err != nil {
		t.Fatal(err)
	}
	return b, &c
}

// TestProcessConfigNamesTheFlagOfEveryProblem: each bad setting is
// reported with the flag that sets it.
func TestProcessConfigNamesTheFlagOfEveryProblem(t *testing.T) {
	complete := []string{"--redis-addr", "127.0.0.1:6379", "--kafka-brokers", "127.0.0.1:9092"}
	b, c := parseProcess(t, complete...)
	if err := b.Check(c.Validate(b)); err != nil {
		t.Fatalf("complete settings: %v", err)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"one of redis-addr and redis-cluster-addrs is required", "kafka-brokers is required"}},
		{[]string{"--redis-cluster-addrs", "127.0.0.1:7000"}, []string{"one of redis-addr and redis-cluster-addrs is required"}},
		{[]string{"--kafka-brokers", "nohost"}, []string{`kafka-brokers lists "nohost"`}},
		{[]string{"--kafka-topic", "bad topic"}, []string{`kafka-topic "bad topic" must be`}},
		{[]string{"--kafka-session-timeout", "10m"}, []string{"kafka-session-timeout must be between 500ms and 5m"}},
		{[]string{"--hot-lease", "10ms"}, []string{"hot-document detector: hot-lease must be at least 1s"}},
	} {
		args := tc.args
		if len(args) > 0 {
			args = append(append([]string{}, complete...), args...)
		}
		b, c := parseProcess(t, args...)
		err := b.Check(c.Validate(b))
		for _, want := range tc.want {
			if err == nil || strings.Count(err.Error(), want) != 1 {
				t.Errorf("%v: %v, want %q once", tc.args, err, want)
			}
		}
	}
}

// TestProcessServesMetricsAndHealthUntilItsContextEnds runs one detector
// process on an embedded Redis and a development broker.
func TestProcessServesMetricsAndHealthUntilItsContextEnds(t *testing.T) {
	rs, err := redisembed.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rs.Close)
	broker, err := events.StartBroker(t.Context(), events.BrokerConfig{Topic: "docplat.access"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close)
	addr := testhttp.FreeAddr(t)
	_, c := parseProcess(t, "--hotspot-addr", addr, "--redis-addr", rs.Addr(), "--kafka-brokers", strings.Join(broker.Addrs(), ","),
		"--kafka-session-timeout", "1s")
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- RunProcess(ctx, *c, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	for _, path := range []string{"/healthz", "/metrics"} {
		wait.Answers200(t, "http://"+addr+path)
	}
	stop()
	wait.Returned(t, done, "RunProcess")
}
