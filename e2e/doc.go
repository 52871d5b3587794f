// Package e2e holds the end-to-end tests that run the whole of docplat as
// separate processes with scripts/cluster.sh: nginx with the hot tier in
// front of three app instances, the stats service, two hot-document
// detectors, the development Kafka broker, three Redis nodes and MariaDB.
// It has no code of its own.
package e2e
