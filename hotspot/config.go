package hotspot

import (
	"errors"
	"fmt"
	"time"
)

// Config sets the detector's window, memory and thresholds. Rates are in
// events per second.
type Config struct {
	// Window is the span over which a document's rate is averaged.
	Window time.Duration
	// Slices is how many slices the window is cut into. A slice is the
	// granularity of expiry: an event leaves the rate within one slice of
	// Window after it happened.
	Slices int
	// SliceCapacity is how many documents each slice tracks. Any document
	// with more than 1/SliceCapacity of a slice's events is tracked, so it
	// should exceed (total event rate) / CoolRate; the error of a rate is
	// at most (total event rate) / SliceCapacity. Memory is about
	// (Slices+1) * SliceCapacity * (64 bytes + id length).
	SliceCapacity int
	// HotRate is the rate at which a document is promoted.
	HotRate float64
	// CoolRate, below HotRate, is the rate under which a hot document
	// starts to cool; between the two a document keeps its state.
	CoolRate float64
	// MinHotDuration is how long a hot document's rate must stay below
	// CoolRate before it is demoted; hence also the least time a document
	// stays hot.
	MinHotDuration time.Duration
	// MaxHot caps the hot set.
	MaxHot int
}

// BurstCount is how many reads of one document within an access
// aggregation window are worth publishing at once: an eighth of what makes
// it hot, so a burst reaches the detector within an eighth of the time it
// takes to detect.
func (c Config) BurstCount() int64 {
	return max(1, int64(c.HotRate*c.Window.Seconds()/8))
}

// DefaultConfig is a starting point: a 1 s window of 10 slices, 4096
// documents per slice (rates exact to 0.025% of the total event rate),
// promotion at 200 reads/s, demotion after 10 s under 100 reads/s, at most
// 1000 hot documents.
func DefaultConfig() Config {
	return Config{
		Window:         time.Second,
		Slices:         10,
		SliceCapacity:  4096,
		HotRate:        200,
		CoolRate:       100,
		MinHotDuration: 10 * time.Second,
		MaxHot:         1000,
	}
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("hotspot: "+format, args...))
	}
	if c.Window <= 0 {
		bad("Window (%v) must be positive", c.Window)
	}
	if c.Slices < 1 {
		bad("Slices (%d) must be at least 1", c.Slices)
	}
	if c.Window > 0 && c.Slices >= 1 {
		if c.Window%time.Duration(c.Slices) != 0 {
			bad("Window (%v) must be a whole number of nanoseconds per slice (Slices %d)", c.Window, c.Slices)
		} else if c.Window/time.Duration(c.Slices) < time.Millisecond {
			bad("a slice (Window %v / Slices %d) must last at least 1ms", c.Window, c.Slices)
		}
	}
	if c.SliceCapacity < 1 {
		bad("SliceCapacity (%d) must be at least 1", c.SliceCapacity)
	}
	if !(c.HotRate > 0) {
		bad("HotRate (%g) must be positive", c.HotRate)
	}
	if !(c.CoolRate > 0) || !(c.CoolRate < c.HotRate) {
		bad("CoolRate (%g) must be positive and below HotRate (%g)", c.CoolRate, c.HotRate)
	}
	if c.MinHotDuration < 0 {
		bad("MinHotDuration (%v) must not be negative", c.MinHotDuration)
	}
	if c.MaxHot < 1 {
		bad("MaxHot (%d) must be at least 1", c.MaxHot)
	}
	if c.MaxHot > c.SliceCapacity && c.SliceCapacity >= 1 {
		// A hot document the slices cannot all hold would read as cold.
		bad("MaxHot (%d) must not exceed SliceCapacity (%d)", c.MaxHot, c.SliceCapacity)
	}
	return errors.Join(errs...)
}
