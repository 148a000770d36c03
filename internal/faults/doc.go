// Package faults is orderapi's crash test: the real binary under
// concurrent load, on a PostgreSQL cluster of its own, while the service
// and the database are killed and restarted; afterwards nothing
// acknowledged may be lost and nothing may be doubled; and the NATS
// relay's holder and server are killed, after which the stream must hold
// the feed exactly once, in order. Its tests build only with the faults
// tag: run them with `make test-faults`.
package faults
