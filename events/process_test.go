package events_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"docplat/events"
	"docplat/internal/envflag"
	"docplat/internal/testhttp"
	"docplat/internal/wait"
)

// parseBrokerProcess is the broker process's flags parsed from args and env.
func parseBrokerProcess(t *testing.T, env map[string]string, args ...string) (*envflag.Set, *events.BrokerProcess) {
	t.Helper()
	var p events.BrokerProcess
	b := envflag.New("kafka", "DOCPLAT_", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	p.Bind(b)
	if err := b.Parse(args); err != nil {
		t.Fatal(err)
	}
	return b, &p
}

// TestBrokerIsDurableOnlyWhenADataDirectoryIsGiven: the flag or its
// variable, even at the default, puts the broker's state in kafka/.
func TestBrokerIsDurableOnlyWhenADataDirectoryIsGiven(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, nil, ""},
		{map[string]string{"DOCPLAT_KAFKA_TOPIC": "t"}, nil, ""},
		{nil, []string{"--data-dir", "/var/docplat"}, "/var/docplat/kafka"},
		{nil, []string{"--data-dir", "./data"}, "data/kafka"},
		{map[string]string{"DOCPLAT_DATA_DIR": "/srv/d"}, nil, "/srv/d/kafka"},
		{map[string]string{"DOCPLAT_DATA_DIR": "/srv/d"}, []string{"--data-dir", "/x"}, "/x/kafka"},
	} {
		_, p := parseBrokerProcess(t, tc.env, tc.args...)
		if p.Broker.DataDir != filepath.FromSlash(tc.want) {
			t.Errorf("env %v args %v: broker data dir %q, want %q", tc.env, tc.args, p.Broker.DataDir, tc.want)
		}
	}
}

// TestBrokerProcessNamesTheFlagOfEveryProblem: each bad setting is
// reported with the flag that sets it.
func TestBrokerProcessNamesTheFlagOfEveryProblem(t *testing.T) {
	b, p := parseBrokerProcess(t, nil)
	if err := b.Check(p.Validate(b)); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--kafka-partitions", "0"}, "kafka-partitions must be between 1 and 1024"},
		{[]string{"--kafka-partitions", "2000"}, "kafka-partitions must be between 1 and 1024"},
		{[]string{"--kafka-topic", "bad topic"}, `kafka-topic "bad topic" must be`},
	} {
		b, p := parseBrokerProcess(t, nil, tc.args...)
		if err := b.Check(p.Validate(b)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestRunBrokerServesItsTopicUntilItsContextEnds: the broker listens where
// it is told, with the topic and its partitions, and stops when told.
func TestRunBrokerServesItsTopicUntilItsContextEnds(t *testing.T) {
	addr := testhttp.FreeAddr(t)
	_, p := parseBrokerProcess(t, nil, "--kafka-addr", addr, "--kafka-partitions", "3")
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- events.RunBroker(ctx, *p, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	wait.For(t, wait.Limit, "the broker to list docplat.access with 3 partitions", func() bool {
		tctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		req := kmsg.NewPtrMetadataRequest()
		topic := kmsg.NewMetadataRequestTopic()
		topic.Topic = kmsg.StringPtr("docplat.access")
		req.Topics = append(req.Topics, topic)
		resp, err := req.RequestWith(tctx, cl)
		return err == nil && len(resp.Topics) == 1 && resp.Topics[0].ErrorCode == 0 && len(resp.Topics[0].Partitions) == 3
	})
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunBroker: %v", err)
		}
	case <-time.After(wait.Limit):
		t.Fatal("the broker did not stop")
	}
}
