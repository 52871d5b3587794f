// Package scenario drives docplat's HTTP API with the generic load generator
// (docplat/loadgen): it knows the contract (/api/v1, shared/API.md), seeds
// the documents a run reads through that API, and describes the request mix
// (Zipf-popular metadata and content reads, searches from a word list in
// Chinese and English, uploads, metadata updates) as a loadgen.Source.
//
// It never talks to a database or imports the server's packages: everything
// goes over HTTP, so it measures what a client sees and runs against any
// deployment. The CLI wiring lives in cmd/docplat-bench (docplat-bench
// loadgen).
package scenario
