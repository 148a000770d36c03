package metrics

import "github.com/orderapi/orderapi/internal/app"

// CommandDone counts a finished command and its retries; it makes
// Metrics an app.Observer.
func (m *Metrics) CommandDone(command string, outcome app.Outcome, retries int) {
	m.commands.WithLabelValues(command, string(outcome)).Inc()
	// The series exists, at zero, from the command's first run.
	r := m.retries.WithLabelValues(command)
	if retries > 0 {
		r.Add(float64(retries))
	}
}

// EventsAppended counts committed events by type.
func (m *Metrics) EventsAppended(events []app.NewEvent) {
	for _, e := range events {
		m.events.WithLabelValues(e.Event.EventType()).Inc()
	}
}

// StateUsed counts where commands found their orders' states.
func (m *Metrics) StateUsed(source app.StateSource) {
	m.states.WithLabelValues(string(source)).Inc()
}
