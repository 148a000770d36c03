package eventstore_test

import (
	"github.com/orderapi/orderapi/internal/adapters/postgres/eventstore/storetest"
)

// The orders the tests start from: see storetest.
var (
	t0         = storetest.T0
	address    = storetest.Address
	newStore   = storetest.New
	commitOf   = storetest.CommitOf
	create     = storetest.Create
	do         = storetest.Do
	mustAppend = storetest.MustAppend
	addItem    = storetest.AddItem
	place      = storetest.Place
	sameOrder  = storetest.SameOrder
	dec        = storetest.Dec
)
