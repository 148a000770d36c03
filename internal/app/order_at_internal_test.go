package app

import (
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/domain/order"
)

// A time-travel instant outside the time bounds asks what the nearest
// bound asks, so the store never meets one it cannot hold.
func TestAsOfKeepsWithinTheTimeBounds(t *testing.T) {
	tests := []struct {
		at, want time.Time
	}{
		{time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), order.EarliestTime},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), order.LatestTime},
		{time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC), time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		if got := AsOf(tt.at).asOf; !got.Equal(tt.want) {
			t.Errorf("AsOf(%s) asks as of %s, want %s", tt.at, got, tt.want)
		}
	}
}
