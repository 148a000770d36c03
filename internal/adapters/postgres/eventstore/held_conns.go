package postgres

// The background workers below keep a connection of the pool for as long
// as they run; HeldConns says how many, so that whoever starts them can
// tell whether the pool leaves any for everything else.

// HeldConns is how many of the pool's connections a running Listener
// keeps: its LISTEN session.
func (l *Listener) HeldConns() int { return 1 }

// HeldConns is how many of the pool's connections a running analytics
// consumer keeps: the session holding its lock, in the replica that holds
// it.
func (a *Analytics) HeldConns() int { return 1 }
