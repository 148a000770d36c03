package projections_test

import (
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
)

// The orders the tests start from: see eventstoretest.
var (
	t0       = eventstoretest.T0
	newStore = eventstoretest.New
	create   = eventstoretest.Create
	do       = eventstoretest.Do
	addItem  = eventstoretest.AddItem
	place    = eventstoretest.Place
)
