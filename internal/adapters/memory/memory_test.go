package memory_test

import (
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/memory"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/app/storetest"
)

func TestContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(*testing.T) app.EventStore { return memory.NewStore() })
}
