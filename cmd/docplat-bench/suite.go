package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"docplat/benchsuite"
	"docplat/internal/buildinfo"
)

// suiteCmd runs `docplat-bench suite`: the benchmark suite (package benchsuite)
// on a cluster of its own, or with -from re-renders the table and charts of
// an earlier run's JSON.
func suiteCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("suite", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "smoke run: about a second per measurement, small steps (plots go to -results, not -plots)")
	repo := fs.String("repo", ".", "repository root (scripts/cluster.sh is run from there)")
	results := fs.String("results", "bench/results", "directory for <timestamp>.json/.txt/.md")
	plots := fs.String("plots", "bench/plots", "directory for the SVG charts bench/HISTORY.md embeds")
	from := fs.String("from", "", "render the table and charts of this JSON report instead of measuring")
	conns := fs.Int("connections", 0, "closed-loop connections per measurement (0: 64)")
	steps := fs.String("ref-steps", "", "reference-table concurrencies, e.g. 100,500,1000,5000,10000 (empty: the default)")
	docs := fs.Int("docs", 0, "documents seeded (0: the default)")
	corpusDocs := fs.Int("corpus-docs", -1, "pages of ../shared/corpus seeded for the search measurement (negative: the default, all 2,291; 0: none)")
	think := fs.Duration("ref-think", -1, "reference table: each user's think time between requests (negative: the default, 10s)")
	searchSamples := fs.Int("search-samples", -1, "uncached corpus searches sent one at a time for the per-search CPU distribution (negative: the default, 200; 25 with -quick)")
	only := fs.String("only", "", "comma-separated measurements to run, the baselines always with them (any of "+strings.Join(benchsuite.Measurable, ", ")+"; empty: all)")
	ownDB := fs.Bool("own-db", false, "run the cluster on a MariaDB server of the run's own (mariadb-install-db) instead of the machine's on 127.0.0.1:3306, so that MariaDB's CPU is the cluster's alone")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("suite: unexpected arguments %q", fs.Args())
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *from != "" {
		rep, err := benchsuite.ReadJSON(*from)
		if err != nil {
			return err
		}
		fmt.Print(rep.Table())
		paths, err := rep.WriteCharts(*plots)
		log.Info("charts written", "files", paths)
		return err
	}
	cfg := benchsuite.DefaultConfig(*quick)
	cfg.Repo, cfg.Version, cfg.OwnMariaDB = *repo, buildinfo.Version(), *ownDB
	if *conns > 0 {
		cfg.Connections = *conns
	}
	if *docs > 0 {
		cfg.Docs = *docs
	}
	if *corpusDocs >= 0 {
		cfg.CorpusDocs = *corpusDocs
	}
	if *searchSamples >= 0 {
		cfg.SearchSamples = *searchSamples
	}
	if *think >= 0 {
		cfg.RefThink = *think
	}
	if *only != "" {
		for n := range strings.SplitSeq(*only, ",") {
			cfg.Only = append(cfg.Only, strings.TrimSpace(n))
		}
	}
	if *steps != "" {
		cfg.RefSteps = nil
		for s := range strings.SplitSeq(*steps, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return fmt.Errorf("suite: -ref-steps: %q is not a number", s)
			}
			cfg.RefSteps = append(cfg.RefSteps, n)
		}
	}
	plotDir := *plots
	if *quick {
		plotDir = *results // a smoke run must not replace the charts bench/HISTORY.md shows
	}
	rep, runErr := benchsuite.Run(ctx, cfg, log)
	if rep == nil {
		return runErr
	}
	fmt.Print(rep.Table())
	paths, err := rep.WriteAll(*results, plotDir)
	if err == nil {
		log.Info("results written", "files", paths)
	}
	return errors.Join(runErr, err)
}
