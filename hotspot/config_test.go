package hotspot

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   []string // substrings of the error; none means valid
	}{
		{"default", func(*Config) {}, nil},
		{"no window", func(c *Config) { c.Window = 0 }, []string{"Window (0s) must be positive"}},
		{"no slices", func(c *Config) { c.Slices = 0 }, []string{"Slices (0) must be at least 1"}},
		{"uneven slices", func(c *Config) { c.Slices = 3 }, []string{"whole number of nanoseconds"}},
		{"slices too short", func(c *Config) { c.Slices = 2000 }, []string{"at least 1ms"}},
		{"no capacity", func(c *Config) { c.SliceCapacity = 0 }, []string{"SliceCapacity (0)"}},
		{"cool above hot", func(c *Config) { c.CoolRate = 300 }, []string{"CoolRate (300) must be positive and below HotRate (200)"}},
		{"cool equals hot", func(c *Config) { c.CoolRate = 200 }, []string{"below HotRate"}},
		{"zero cool", func(c *Config) { c.CoolRate = 0 }, []string{"CoolRate (0)"}},
		{"zero hot", func(c *Config) { c.HotRate = 0 }, []string{"HotRate (0) must be positive", "CoolRate (100)"}},
		{"negative dwell", func(c *Config) { c.MinHotDuration = -time.Second }, []string{"MinHotDuration"}},
		{"no max hot", func(c *Config) { c.MaxHot = 0 }, []string{"MaxHot (0) must be at least 1"}},
		{"max hot above capacity", func(c *Config) { c.MaxHot = 5000 }, []string{"MaxHot (5000) must not exceed SliceCapacity (4096)"}},
		{"every problem at once", func(c *Config) { *c = Config{} }, []string{"Window", "Slices", "SliceCapacity", "HotRate", "CoolRate", "MaxHot"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.change(&cfg)
			err := cfg.Validate()
			_, newErr := NewDetector(cfg)
			if (err == nil) != (newErr == nil) {
				t.Fatalf("Validate says %v, NewDetector says %v", err, newErr)
			}
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestBurstCountIsAnEighthOfWhatMakesHot(t *testing.T) {
	c := DefaultConfig() // 200/s over 1s
	if got := c.BurstCount(); got != 25 {
		t.Fatalf("BurstCount() = %d, want 25", got)
	}
	c.HotRate, c.Window = 400, 2*time.Second
	if got := c.BurstCount(); got != 100 {
		t.Fatalf("BurstCount() = %d, want 100", got)
	}
	c.HotRate = 1
	if got := c.BurstCount(); got != 1 {
		t.Fatalf("BurstCount() = %d, want at least 1", got)
	}
}
