package standby

import "testing"

// TestServerThatIsNoStandby: what a check decides from what the server
// says of its recovery. A server that does not report in_hot_standby
// (PostgreSQL 13 or older) is out, saying so: RecoveryTracer would discard
// every read of it, and the primary would answer them all unseen.
func TestServerThatIsNoStandby(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		inRecovery bool
		hotStandby string
		want       string
	}{
		{true, "on", ""},
		{false, "off", notInRecovery},
		{false, "on", notInRecovery},   // promoted between the report and the query
		{true, "off", notInRecovery},   // promoted between the query and the report
		{true, "", noHotStandbyReport}, // PostgreSQL 13 or older
		{false, "", notInRecovery},
	} {
		if got := notStandby(c.inRecovery, c.hotStandby); got != c.want {
			t.Errorf("in recovery %v, in_hot_standby %q: %q, want %q", c.inRecovery, c.hotStandby, got, c.want)
		}
	}
}
