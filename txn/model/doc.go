// Package model holds the Promela model of docplat's 3PC; its test runs spin.
//
// threepc.pml models txn/PROTOCOL.md (coordinator, participants, barrier
// rows, timeouts, termination protocol, coordinator recovery) with crash
// failures; check.sh verifies it with spin. README.md gives the results.
package model
