package eventstore_test

import (
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/eventstoretest"
)

// The orders the tests start from: see eventstoretest.
var (
	t0         = eventstoretest.T0
	address    = eventstoretest.Address
	newStore   = eventstoretest.New
	commitOf   = eventstoretest.CommitOf
	create     = eventstoretest.Create
	do         = eventstoretest.Do
	mustAppend = eventstoretest.MustAppend
	addItem    = eventstoretest.AddItem
	place      = eventstoretest.Place
	sameOrder  = eventstoretest.SameOrder
	dec        = eventstoretest.Dec
	price      = eventstoretest.Price
)
