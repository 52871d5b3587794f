package scenario

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestZipfProbabilitiesFollowThePowerLaw(t *testing.T) {
	for _, tc := range []struct {
		n int
		s float64
	}{{1, 1.1}, {10, 0}, {100, 1.1}, {1000, 0.8}} {
		z, err := NewZipf(tc.n, tc.s)
		if err != nil {
			t.Fatal(err)
		}
		var h float64
		for k := 1; k <= tc.n; k++ {
			h += math.Pow(float64(k), -tc.s)
		}
		var sum float64
		for k := range tc.n {
			want := math.Pow(float64(k+1), -tc.s) / h
			if got := z.Prob(k); math.Abs(got-want) > 1e-12 {
				t.Fatalf("n=%d s=%g: P(%d) = %g, want %g", tc.n, tc.s, k, got, want)
			}
			sum += z.Prob(k)
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Fatalf("n=%d s=%g: probabilities sum to %g", tc.n, tc.s, sum)
		}
	}
}

// TestZipfDrawsMatchTheDistribution draws many ranks and compares the
// frequencies with the probabilities: the head ranks individually and the
// whole distribution with a chi-square statistic.
func TestZipfDrawsMatchTheDistribution(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		s    float64
	}{{"zipf 1.1 over 100", 100, 1.1}, {"zipf 0.8 over 50", 50, 0.8}, {"uniform over 20", 20, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			z, err := NewZipf(tc.n, tc.s)
			if err != nil {
				t.Fatal(err)
			}
			const draws = 200_000
			rng := rand.New(rand.NewPCG(7, 11))
			counts := make([]int, tc.n)
			for range draws {
				counts[z.Rank(rng)]++
			}
			for k := range min(tc.n, 5) {
				p := z.Prob(k)
				sd := math.Sqrt(draws * p * (1 - p))
				if d := math.Abs(float64(counts[k]) - draws*p); d > 5*sd {
					t.Errorf("rank %d: %d draws, expected %.0f (off by %.1f sd)", k, counts[k], draws*p, d/sd)
				}
			}
			var chi2 float64
			for k, c := range counts {
				e := draws * z.Prob(k)
				chi2 += (float64(c) - e) * (float64(c) - e) / e
			}
			// Degrees of freedom n-1; mean n-1, sd sqrt(2(n-1)): 6 sd is far.
			df := float64(tc.n - 1)
			if chi2 > df+6*math.Sqrt(2*df) {
				t.Errorf("chi-square %.1f for %g degrees of freedom", chi2, df)
			}
			if tc.s > 0 && counts[0] <= counts[tc.n-1] {
				t.Errorf("rank 0 (%d) is not more popular than the last rank (%d)", counts[0], counts[tc.n-1])
			}
		})
	}
}

func TestNewZipfRejectsBadParameters(t *testing.T) {
	for _, tc := range []struct {
		n int
		s float64
	}{{0, 1}, {-1, 1}, {10, -0.5}, {10, math.NaN()}, {10, math.Inf(1)}} {
		if _, err := NewZipf(tc.n, tc.s); err == nil {
			t.Errorf("NewZipf(%d, %g) accepted", tc.n, tc.s)
		}
	}
}
