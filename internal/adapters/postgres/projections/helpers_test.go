package projections_test

import (
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/storetest"
)

// The orders the tests start from: see storetest.
var (
	t0       = storetest.T0
	newStore = storetest.New
	create   = storetest.Create
	do       = storetest.Do
	addItem  = storetest.AddItem
	place    = storetest.Place
)
