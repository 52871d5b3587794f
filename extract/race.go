//go:build race

package extract

// The race detector's runtime reserves terabytes of address space for its
// shadow memory, so a race-enabled binary cannot start as a child under
// the address-space bound: tests built with -race run it unbounded in
// memory (time and output bounds stay).
func init() { limits.officeMemory = 0 }
