// Package hotspot finds the documents that are read at a high rate now,
// from a stream of access events, in bounded memory. It owns the algorithm
// only: the caller feeds it events and time and acts on its decisions.
//
// # Algorithm
//
// Time is cut into slices (Config.Window / Config.Slices, 100 ms by
// default). Each slice has a Space-Saving summary (Metwally et al., 2005)
// of Config.SliceCapacity counters, kept in a min-heap so that an event may
// stand for many accesses (nginx reports aggregated hits): an untracked
// document takes over the smallest counter and records the count it
// inherited as its possible overestimate. The detector keeps Slices+1
// slices: the current one, partly elapsed, the Slices-1 before it, and the
// oldest, of which only the share still inside [now-Window, now] counts
// (weighted by that share, assuming its events spread evenly). A
// document's rate is its certain count (count minus overestimate) summed
// over these slices, divided by Window.
//
// Advance decides: a document is promoted when its rate reaches HotRate,
// the hottest first, up to MaxHot hot documents (when the set is full a
// candidate takes the place of the coolest hot document only if it is
// HotRate/CoolRate times hotter and that one has been hot MinHotDuration);
// a hot document is demoted when its rate has stayed below CoolRate for
// MinHotDuration. Between CoolRate and HotRate nothing changes, so a
// document does not flap. Seed makes a document hot without evidence (a
// detector taking over the partitions of one that died inherits its hot
// set); such a document is judged only after a whole window of this
// detector's own evidence. Forget drops documents and their counts (their
// partition moved away).
//
// # Error bounds
//
// In a slice of N events, a tracked document's count exceeds its true
// count by at most the smallest counter, itself at most N/SliceCapacity,
// and any document with more than N/SliceCapacity events is tracked. The
// rate used is therefore a lower bound: with R the total event rate,
//
//	true rate - R/SliceCapacity <= rate <= true rate
//
// at slice boundaries; between them the interpolated oldest slice adds the
// error of assuming its events even. So the summaries never make a cold
// document hot; they may delay or miss one whose rate is within
// R/SliceCapacity of HotRate. Size SliceCapacity so that R/SliceCapacity is
// small beside CoolRate. Measured under Zipf(1.1) over 1,000,000 ids at
// 100,000 events/s, the typical error is far below that worst case (see
// TestHotSetAgainstExactCountsUnderZipfWithBursts).
//
// A burst that starts from nothing is promoted at the first Advance after
// its count over the window reaches HotRate*Window (plus the few events a
// new counter may miss): call Advance at least once per slice, more often
// for quicker promotion.
//
// # Memory and cost
//
// The detector holds at most (Slices+1)*SliceCapacity counters, whatever
// the number of distinct documents ever seen (about 100 bytes each plus the
// id: some 5 MB with DefaultConfig), and at most MaxHot hot documents. Ids
// are copied when first tracked, so an id does not pin the caller's
// buffer. Observe costs O(log SliceCapacity) and allocates only for an id
// it starts tracking; Advance scans every counter once and sums the slices
// only for documents that can reach HotRate.
//
// # What it never does
//
// It never reads a clock (time comes from Observe and Advance: Advance
// never moves it back, Observe never moves it at all, an event older than
// the window is dropped and counted in Stats.Late, one later than the
// current slice counts in it); it never starts a goroutine, takes a lock,
// performs I/O or registers metrics (Stats is for the caller to export); it
// is not safe for concurrent use; and it knows nothing of Kafka,
// partitions or nginx.
package hotspot
