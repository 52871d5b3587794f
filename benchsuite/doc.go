// Package benchsuite is docplat's benchmark suite (`docplat-bench suite`,
// `make bench`): it starts the local cluster (scripts/cluster.sh) on free loopback
// ports, measures in one run the baselines (nginx serving a static 10 KB
// file, a bare net/http handler serving the same bytes, a Redis GET of 10 KB,
// a MariaDB primary-key SELECT of a 10 KB BLOB) and docplat's paths (nginx
// hot tier, L1 hit at one app and through nginx, L2 hit, uncached read,
// search, upload), the CPU of each uncached search sent one at a time
// (SearchCPU, from per-thread schedstat), then the
// latency-versus-offered-load curves and the reference table (mixed workload
// through nginx at 100 ... 10,000 connections). Every measurement is a closed
// loop with the same connections and duration, so the ratios compare like
// with like.
//
// It owns the orchestration, the result format (Report, JSON), the text
// table with ratios (Report.Table), the reference table in Markdown
// (Report.ReferenceMarkdown) and the SVG charts (Chart). It sends load with
// docplat/loadgen and speaks the API through docplat/loadgen/scenario; it
// never imports the server's packages, so what it measures is what a client
// sees.
package benchsuite
