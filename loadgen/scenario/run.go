package scenario

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"docplat/loadgen"
)

// ErrNoSuccess is returned when a run recorded no successful request: a
// report of nothing but failures (or of nothing) must not pass for a result.
var ErrNoSuccess = errors.New("loadgen: no successful request was recorded")

// Execute seeds, writes the files JMeter needs, runs the load and prints the
// table to out. With SeedOnly it stops after the files.
func Execute(ctx context.Context, p *Plan, out io.Writer, log *slog.Logger) error {
	conns := p.Connections()
	if soft, hard, err := RaiseFileLimit(); err != nil {
		log.Warn("could not raise the open-files limit", "err", err, "soft", soft, "hard", hard)
	} else {
		log.Info("open-files limit (RLIMIT_NOFILE) raised to the hard limit", "soft", soft, "hard", hard)
		// Each connection costs a descriptor here, and one more at the server
		// when it runs on this machine.
		if need := uint64(conns) + 256; soft < need {
			log.Warn("open-files limit is below what this run may hold; raise the hard limit (ulimit -Hn)", "limit", soft, "connections", conns)
		}
	}
	client := loadgen.NewClient(conns, 0)
	api := &API{Base: p.BaseURL, Token: p.Token, Client: client}
	if p.User != "" {
		if err := api.Login(ctx, p.User, p.Password); err != nil {
			return err
		}
	}
	ids, err := seed(ctx, p, api, log)
	if err != nil {
		return err
	}
	if err := writeFiles(p, api.Token, ids); err != nil {
		return err
	}
	if p.SeedOnly {
		fmt.Fprintf(out, "seeded: %d documents\n", len(ids))
		return nil
	}
	src, err := NewSource(SourceConfig{
		BaseURL: p.BaseURL, Token: api.Token, IDs: ids, Words: p.Words,
		Mix: p.MixW, ZipfS: p.ZipfS, UploadBytes: p.UploadBytes,
	})
	if err != nil {
		return err
	}
	log.Info("load starting", "mode", p.Load.Mode, "users", p.Load.Users, "rate", p.Load.Rate,
		"steps", p.Steps, "duration", p.Load.Duration, "mix", p.MixW.String(), "documents", len(ids))
	res, err := loadgen.Run(ctx, client, src, p.Load)
	if res != nil {
		fmt.Fprint(out, res.Table())
		if p.JSONOut != "" {
			b, jerr := json.MarshalIndent(res, "", "  ")
			if jerr == nil {
				jerr = os.WriteFile(p.JSONOut, append(b, '\n'), 0o644)
			}
			if jerr != nil {
				return fmt.Errorf("writing -json: %w", jerr)
			}
		}
	}
	if err != nil {
		return err
	}
	if res.Successes == 0 {
		return ErrNoSuccess
	}
	return nil
}

// seed returns the ids the run reads: existing public documents with
// -reuse, then uploads for the rest.
func seed(ctx context.Context, p *Plan, api *API, log *slog.Logger) ([]string, error) {
	var ids []string
	if p.Reuse {
		var err error
		if ids, err = api.PublicIDs(ctx, p.Docs); err != nil {
			return nil, err
		}
		log.Info("reusing public documents", "found", len(ids), "wanted", p.Docs)
	}
	missing := p.Docs - len(ids)
	if missing <= 0 {
		return ids, nil
	}
	if api.Token == "" {
		return nil, fmt.Errorf("only %d public documents exist and -docs is %d: give -token or -user/-password to upload the rest", len(ids), p.Docs)
	}
	var files []SeedFile
	if p.Corpus != "" {
		var err error
		if files, err = CorpusFiles(p.Corpus, missing); err != nil {
			return nil, err
		}
	} else {
		files = GeneratedFiles(missing, 4096, p.Words, p.Seed)
	}
	start := time.Now()
	up, refused, err := api.UploadCorpus(ctx, files, p.SeedWorkers)
	if err != nil {
		return nil, fmt.Errorf("seeding: %w", err)
	}
	up = slices.DeleteFunc(up, func(id string) bool { return id == "" })
	if err := api.WaitSearchable(ctx, up); err != nil {
		return nil, fmt.Errorf("seeding: waiting for the documents' text: %w", err)
	}
	log.Info("seeded documents", "uploaded", len(up), "refused_type", refused, "took", time.Since(start).Round(time.Millisecond))
	return append(ids, up...), nil
}

// writeFiles writes the files the JMeter plan reads.
func writeFiles(p *Plan, token string, ids []string) error {
	if p.IDsCSV != "" {
		z, err := NewZipf(len(ids), p.ZipfS)
		if err != nil {
			return err
		}
		rng := rand.New(rand.NewPCG(uint64(p.Seed), 0x1d5))
		lines := make([]string, p.IDsSample)
		for i := range lines {
			lines[i] = ids[z.Rank(rng)]
		}
		if err := writeLines(p.IDsCSV, lines, 0o644); err != nil {
			return err
		}
	}
	if p.WordsCSV != "" {
		if err := writeLines(p.WordsCSV, p.Words, 0o644); err != nil {
			return err
		}
	}
	if p.TokenOut != "" {
		if token == "" {
			return errors.New("-token-out: there is no token (give -token or -user/-password)")
		}
		if err := os.WriteFile(p.TokenOut, []byte(token), 0o600); err != nil {
			return err
		}
	}
	return nil
}

func writeLines(path string, lines []string, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, l := range lines {
		w.WriteString(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
