package txn

import "sync"

// StepFailpoints fails the named steps, each once (a crash happens once;
// the restarted process goes on). Safe for concurrent use.
type StepFailpoints struct {
	mu    sync.Mutex
	armed map[string]bool
	hits  []string
}

// NewStepFailpoints arms the given steps.
func NewStepFailpoints(steps ...string) *StepFailpoints {
	f := &StepFailpoints{armed: map[string]bool{}}
	for _, s := range steps {
		f.armed[s] = true
	}
	return f
}

// Hit fails an armed step once.
func (f *StepFailpoints) Hit(step string) error {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.armed[step] {
		delete(f.armed, step)
		f.hits = append(f.hits, step)
		return ErrCrash
	}
	return nil
}

// Fired lists the steps that failed.
func (f *StepFailpoints) Fired() []string {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.hits...)
}

// Arm arms more steps (each fails once).
func (f *StepFailpoints) Arm(steps ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range steps {
		f.armed[s] = true
	}
}
