package bulkload_test

import (
	"testing"

	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
