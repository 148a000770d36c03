package analytics

import (
	"container/list"

	"github.com/google/uuid"
)

// orderStates is the consumer's memory of analytics_orders while it holds
// the lock: the states of the orders it last counted, so that a batch
// reads from the database only the orders it has not met since it took
// the lock. It holds only committed states, those of the rows at the
// consumer's checkpoint: a batch that fails may have changed some, so it
// is forgotten whole (forget), and so it is when the checkpoint moves
// under the consumer (a reset, another consumer) and whenever the lock is
// taken again, since it lives only as long as one holding. It keeps the
// most recently counted orders, at most max; an order it no longer has is
// read again.
type orderStates struct {
	max   int
	byID  map[uuid.UUID]*list.Element
	order *list.List // of *rememberedState, most recently used first
}

type rememberedState struct {
	id uuid.UUID
	st *analyticsOrder
}

// newOrderStates remembers up to max orders; none if max < 1.
func newOrderStates(max int) *orderStates {
	return &orderStates{max: max, byID: map[uuid.UUID]*list.Element{}, order: list.New()}
}

// get returns the remembered state of the order, if any.
func (m *orderStates) get(id uuid.UUID) (*analyticsOrder, bool) {
	e, ok := m.byID[id]
	if !ok {
		return nil, false
	}
	m.order.MoveToFront(e)
	return e.Value.(*rememberedState).st, true
}

// put remembers the committed state of the order, forgetting the least
// recently used one past max.
func (m *orderStates) put(id uuid.UUID, st *analyticsOrder) {
	if m.max < 1 {
		return
	}
	if e, ok := m.byID[id]; ok {
		e.Value.(*rememberedState).st = st
		m.order.MoveToFront(e)
		return
	}
	m.byID[id] = m.order.PushFront(&rememberedState{id: id, st: st})
	for m.order.Len() > m.max {
		oldest := m.order.Back()
		delete(m.byID, oldest.Value.(*rememberedState).id)
		m.order.Remove(oldest)
	}
}

// remove forgets one order.
func (m *orderStates) remove(id uuid.UUID) {
	if e, ok := m.byID[id]; ok {
		delete(m.byID, id)
		m.order.Remove(e)
	}
}

// forget forgets every order: what it held may no longer be what the
// database holds.
func (m *orderStates) forget() {
	clear(m.byID)
	m.order.Init()
}

// len is how many orders it remembers.
func (m *orderStates) len() int { return m.order.Len() }
