package standby

import "time"

// Stats are the queries the router handed out since it was made, and its
// standbys' state as last checked.
type Stats struct {
	// PrimaryReads are the queries the primary answered, those a standby
	// failed under included.
	PrimaryReads uint64
	Standbys     []StandbyStats
}

// StandbyStats is one standby's.
type StandbyStats struct {
	Name       string
	InRotation bool
	// Lag and LagBytes are how far behind the primary it was at its last
	// check.
	Lag      time.Duration
	LagBytes int64
	// Checks are the health checks made of it; Reason is why it is out
	// of rotation, "" while in.
	Checks uint64
	Reason string
	// Reads are the queries handed to it.
	Reads uint64
	// FellBehind are the queries with a position that it had not
	// replayed within the wait; Failed the reads that failed on it
	// (unreachable, or cancelled by recovery). The primary answered both.
	FellBehind, Failed uint64
}

// Stats returns the counters and states; cheap enough for every scrape.
func (r *Router) Stats() Stats {
	st := Stats{PrimaryReads: r.primaryReads.Load(), Standbys: make([]StandbyStats, len(r.standbys))}
	for i, s := range r.standbys {
		st.Standbys[i] = StandbyStats{
			Name: s.name, InRotation: s.inRotation.Load(),
			Lag: time.Duration(s.lag.Load()), LagBytes: s.lagBytes.Load(), Checks: s.checks.Load(), Reason: s.reason(),
			Reads: s.reads.Load(), FellBehind: s.fallbacks[fellBehind].Load(), Failed: s.fallbacks[failedUnder].Load(),
		}
	}
	return st
}
