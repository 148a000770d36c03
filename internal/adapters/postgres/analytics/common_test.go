package analytics_test

import (
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
)

// The orders the tests start from: see eventstoretest.
var (
	t0        = eventstoretest.T0
	address   = eventstoretest.Address
	newStore  = eventstoretest.New
	create    = eventstoretest.Create
	do        = eventstoretest.Do
	addItem   = eventstoretest.AddItem
	sameOrder = eventstoretest.SameOrder
	price     = eventstoretest.Price
)
