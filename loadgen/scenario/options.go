package scenario

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"docplat/loadgen"
)

// Options are the settings of one `docplat-bench loadgen` run, filled from
// flags.
type Options struct {
	URL      string
	Token    string
	User     string
	Password string

	Docs        int    // documents the reads spread over
	Reuse       bool   // read existing public documents before uploading more
	Corpus      string // directory with manifest.tsv; empty: generated text
	SeedWorkers int

	Mix         string
	ZipfS       float64
	WordsFile   string
	UploadBytes int

	Mode        string
	Users       int
	Think       time.Duration
	Rate        float64
	Steps       string // "v:dur,v:dur": users (closed) or rate (open) per step
	Duration    time.Duration
	Warmup      time.Duration
	Timeout     time.Duration
	MaxInFlight int
	Seed        int64

	SeedOnly  bool
	IDsCSV    string // Zipf sample of ids for JMeter
	IDsSample int    // lines in IDsCSV
	WordsCSV  string
	TokenOut  string
	JSONOut   string
}

// Register declares the flags on fs with their defaults.
func (o *Options) Register(fs *flag.FlagSet) {
	fs.StringVar(&o.URL, "url", "http://127.0.0.1:8080", "docplat server base URL")
	fs.StringVar(&o.Token, "token", "", "bearer token (instead of -user/-password)")
	fs.StringVar(&o.User, "user", "", "user to sign in as (seeding, uploads, updates)")
	fs.StringVar(&o.Password, "password", "", "password of -user")
	fs.IntVar(&o.Docs, "docs", 100, "documents the reads spread over (seeded through the API)")
	fs.BoolVar(&o.Reuse, "reuse", false, "use existing public documents first, upload only the missing ones")
	fs.StringVar(&o.Corpus, "corpus", "", "directory with manifest.tsv to seed from (e.g. /work/shared/corpus); empty: generated text")
	fs.IntVar(&o.SeedWorkers, "seed-workers", 4, "concurrent uploads while seeding")
	fs.StringVar(&o.Mix, "mix", DefaultMix, "request mix, kind=weight: "+strings.Join(Kinds, ", "))
	fs.Float64Var(&o.ZipfS, "zipf-s", 1.1, "Zipf exponent of document popularity (0: uniform)")
	fs.StringVar(&o.WordsFile, "words", "", "search terms, one per line (default: with -corpus, queries taken from its pages' titles and bodies; else a built-in Chinese and English list)")
	fs.IntVar(&o.UploadBytes, "upload-bytes", 2048, "size of each file uploaded during the run")
	fs.StringVar(&o.Mode, "mode", loadgen.Closed, "closed (users) or open (arrival rate)")
	fs.IntVar(&o.Users, "users", 100, "closed loop: concurrent users")
	fs.DurationVar(&o.Think, "think", 0, "closed loop: each user waits this long (uniform 0.5x-1.5x) between a response and its next request; 0: back to back")
	fs.Float64Var(&o.Rate, "rate", 0, "open loop: requests per second")
	fs.StringVar(&o.Steps, "steps", "", "stepped run, e.g. 100:30s,500:30s,1000:30s (users or req/s per step); replaces -users/-rate/-duration")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "measured duration")
	fs.DurationVar(&o.Warmup, "warmup", 0, "unrecorded warm-up before the measurement")
	fs.DurationVar(&o.Timeout, "timeout", loadgen.DefaultTimeout, "per-request timeout")
	fs.IntVar(&o.MaxInFlight, "max-in-flight", 0, "open loop: cap on outstanding requests (0: none)")
	fs.Int64Var(&o.Seed, "seed", 1, "random seed (request choice and the ids sample)")
	fs.BoolVar(&o.SeedOnly, "seed-only", false, "seed, write the -ids-csv/-words-csv/-token-out files and exit")
	fs.StringVar(&o.IDsCSV, "ids-csv", "", "write a Zipf-distributed sample of the document ids here, one per line (for JMeter)")
	fs.IntVar(&o.IDsSample, "ids-sample", 10000, "lines in -ids-csv")
	fs.StringVar(&o.WordsCSV, "words-csv", "", "write the search terms here, one per line (for JMeter)")
	fs.StringVar(&o.TokenOut, "token-out", "", "write the bearer token here (mode 0600, for JMeter)")
	fs.StringVar(&o.JSONOut, "json", "", "also write the report as JSON to this file")
}

// Plan is a validated Options: the parsed values a run uses.
type Plan struct {
	Options
	BaseURL string
	MixW    Mix
	Words   []string
	Load    loadgen.Config
}

// Validate checks every setting and reports all problems at once.
func (o *Options) Validate() (*Plan, error) {
	p := &Plan{Options: *o}
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	base, err := BaseURL(o.URL)
	if err != nil {
		bad("-url: %v", err)
	}
	p.BaseURL = base
	if o.Token != "" && o.User != "" {
		bad("-token and -user: give one of them")
	}
	if o.User != "" && o.Password == "" {
		bad("-user needs -password")
	}
	if o.Docs < 1 || o.Docs > 1_000_000 {
		bad("-docs must be 1..1000000, got %d", o.Docs)
	}
	if o.SeedWorkers < 1 || o.SeedWorkers > 256 {
		bad("-seed-workers must be 1..256, got %d", o.SeedWorkers)
	}
	if o.ZipfS < 0 || math.IsNaN(o.ZipfS) || math.IsInf(o.ZipfS, 0) {
		bad("-zipf-s must be >= 0, got %g", o.ZipfS)
	}
	if o.UploadBytes < 1 || o.UploadBytes > 64<<20 {
		bad("-upload-bytes must be 1..67108864, got %d", o.UploadBytes)
	}
	if o.IDsSample < 1 {
		bad("-ids-sample must be >= 1, got %d", o.IDsSample)
	}
	if o.Corpus != "" {
		if st, err := os.Stat(o.Corpus); err != nil || !st.IsDir() {
			bad("-corpus: %q is not a directory", o.Corpus)
		}
	}
	mix, err := ParseMix(o.Mix)
	if err != nil {
		bad("-mix: %v", err)
	}
	p.MixW = mix
	credentials := o.Token != "" || o.User != ""
	if !credentials && mix != nil && mix.Writes() && !o.SeedOnly {
		bad("-mix has uploads or updates: they need -token or -user/-password")
	}
	if !credentials && !o.Reuse {
		bad("seeding uploads documents: give -token or -user/-password, or -reuse existing public documents")
	}
	if o.WordsFile != "" {
		f, err := os.Open(o.WordsFile)
		if err == nil {
			p.Words, err = ParseWords(f)
			f.Close()
		}
		if err != nil {
			bad("-words: %v", err)
		}
	} else if o.Corpus != "" && errs == nil {
		// Searches like users': queries from the corpus pages' titles and bodies.
		if p.Words, err = CorpusSearchWords(o.Corpus, uint64(o.Seed)); err != nil {
			bad("-corpus: %v", err)
		}
	} else {
		p.Words = DefaultWords()
	}

	cfg := loadgen.Config{
		Mode: o.Mode, Users: o.Users, ThinkTime: o.Think, Rate: o.Rate, Duration: o.Duration, Warmup: o.Warmup,
		Timeout: o.Timeout, MaxInFlight: o.MaxInFlight, Seed: o.Seed,
	}
	switch o.Mode {
	case loadgen.Closed:
		if o.MaxInFlight != 0 {
			bad("-max-in-flight applies to -mode open only")
		}
	case loadgen.Open:
	default:
		bad("-mode must be %q or %q, got %q", loadgen.Closed, loadgen.Open, o.Mode)
	}
	if o.Timeout <= 0 {
		bad("-timeout must be > 0")
	}
	if o.Warmup < 0 || o.MaxInFlight < 0 {
		bad("-warmup and -max-in-flight must not be negative")
	}
	if o.Steps != "" {
		steps, err := ParseSteps(o.Steps, o.Mode)
		if err != nil {
			bad("-steps: %v", err)
		}
		cfg.Steps = steps
	} else if !o.SeedOnly {
		if o.Duration <= 0 {
			bad("-duration must be > 0")
		}
		if o.Think < 0 || (o.Think > 0 && o.Mode != loadgen.Closed) {
			bad("-think must be >= 0 and is for the closed loop only")
		}
		if o.Mode == loadgen.Closed && (o.Users < 1 || o.Users > 1_000_000) {
			bad("-users must be 1..1000000 in closed loop, got %d", o.Users)
		}
		if o.Mode == loadgen.Open && (o.Rate <= 0 || math.IsInf(o.Rate, 0) || math.IsNaN(o.Rate)) {
			bad("-rate must be > 0 in open loop")
		}
	}
	p.Load = cfg
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// ParseSteps reads "value:duration,..." where value is users (closed) or
// requests per second (open).
func ParseSteps(s, mode string) ([]loadgen.Step, error) {
	var steps []loadgen.Step
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		v, d, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("%q is not value:duration (e.g. 500:30s)", part)
		}
		dur, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil || dur <= 0 {
			return nil, fmt.Errorf("%q: duration must be positive, like 30s", part)
		}
		st := loadgen.Step{Duration: dur}
		if mode == loadgen.Open {
			r, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || r <= 0 || math.IsInf(r, 0) {
				return nil, fmt.Errorf("%q: rate must be a number > 0", part)
			}
			st.Rate = r
		} else {
			u, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || u < 1 || u > 1_000_000 {
				return nil, fmt.Errorf("%q: users must be 1..1000000", part)
			}
			st.Users = u
		}
		steps = append(steps, st)
	}
	return steps, nil
}

// Connections is the most concurrent connections the run may hold.
func (p *Plan) Connections() int {
	n := max(p.Load.Users, p.Load.MaxInFlight, 64)
	for _, s := range p.Load.Steps {
		n = max(n, s.Users)
	}
	return n
}
