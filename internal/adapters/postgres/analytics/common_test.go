package analytics_test

import (
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/storetest"
)

// The orders the tests start from: see storetest.
var (
	t0        = storetest.T0
	address   = storetest.Address
	newStore  = storetest.New
	create    = storetest.Create
	do        = storetest.Do
	addItem   = storetest.AddItem
	sameOrder = storetest.SameOrder
	dec       = storetest.Dec
)
