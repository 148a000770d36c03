package postgres

import "time"

// SetAppendOutcomeWait shortens how long the store's appends wait for
// their outcome once sent, so that a test can outlast it.
func (s *Store) SetAppendOutcomeWait(d time.Duration) { s.outcomeWait = d }
