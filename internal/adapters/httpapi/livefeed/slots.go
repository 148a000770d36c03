package livefeed

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/orderapi/orderapi/internal/adapters/httpapi/problem"
)

// Default bounds on live feeds open at once.
const (
	DefaultStreams          = 500
	DefaultStreamsPerClient = 32
)

// streamSlots admits live feeds up to a total and up to a number per
// client, so that no client, and no crowd of them, holds more of the
// process than it can give.
type streamSlots struct {
	max, perClient int

	mu      sync.Mutex
	total   int
	clients map[string]int
}

func newStreamSlots(max, perClient int) (*streamSlots, error) {
	if max < 0 || perClient < 0 {
		return nil, fmt.Errorf("negative FeedStreams %d or FeedStreamsPerClient %d", max, perClient)
	}
	if max == 0 {
		max = DefaultStreams
	}
	if perClient == 0 {
		perClient = DefaultStreamsPerClient
	}
	return &streamSlots{max: max, perClient: perClient, clients: map[string]int{}}, nil
}

// acquire takes a slot for client, or says why there is none: a 429 when
// the client holds its share, a 503 when the process is full. release
// gives the slot back.
func (s *streamSlots) acquire(client string) (release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.clients[client] >= s.perClient:
		return nil, problem.Request(http.StatusTooManyRequests, problem.CodeTooManyStreams, fmt.Sprintf(
			"this client has %d live feeds open, the most it may; close one, or retry later", s.perClient))
	case s.total >= s.max:
		return nil, problem.Request(http.StatusServiceUnavailable, problem.CodeStreamsExhausted,
			"the service has as many live feeds open as it can serve; retry later")
	}
	s.total++
	s.clients[client]++
	return func() { s.release(client) }, nil
}

func (s *streamSlots) release(client string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total--
	if s.clients[client]--; s.clients[client] == 0 {
		delete(s.clients, client)
	}
}
