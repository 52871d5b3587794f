package scenario

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Zipf draws ranks 0..n-1 with P(k) proportional to 1/(k+1)^s by inverting
// the exact cumulative distribution (binary search over a table of n
// floats). Unlike math/rand's Zipf it accepts any s >= 0 (s <= 1 is common
// in popularity studies) and holds no rng, so per-user rngs can share it.
type Zipf struct {
	cdf []float64
}

// NewZipf returns the distribution over n ranks with exponent s.
func NewZipf(n int, s float64) (*Zipf, error) {
	if n < 1 {
		return nil, fmt.Errorf("scenario: zipf needs at least one item, got %d", n)
	}
	if s < 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return nil, fmt.Errorf("scenario: zipf exponent must be a finite number >= 0, got %g", s)
	}
	cdf := make([]float64, n)
	var sum float64
	for k := range n {
		sum += math.Pow(float64(k+1), -s)
		cdf[k] = sum
	}
	for k := range cdf {
		cdf[k] /= sum
	}
	cdf[n-1] = 1 // no rounding gap at the top
	return &Zipf{cdf: cdf}, nil
}

// N is the number of ranks.
func (z *Zipf) N() int { return len(z.cdf) }

// Prob is the probability of rank k.
func (z *Zipf) Prob(k int) float64 {
	if k == 0 {
		return z.cdf[0]
	}
	return z.cdf[k] - z.cdf[k-1]
}

// Rank draws a rank (0 is the most popular).
func (z *Zipf) Rank(rng *rand.Rand) int {
	u := rng.Float64()
	return sort.SearchFloat64s(z.cdf, u)
}
