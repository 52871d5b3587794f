// Package deploy holds what runs docplat on machines of its own, as
// files: systemd units and example environment files (systemd/),
// Prometheus alerting rules and a scrape configuration (prometheus/) and
// a Grafana dashboard (grafana/); documentation/deployment.md describes
// the deployment. It has no Go API: its tests hold the files to the
// docplat binary they are shipped with (every subcommand, flag and
// variable a unit uses exists; every metric a rule or panel reads is
// exported), and run systemd-analyze and promtool on them.
package deploy
