package order_test

import (
	"errors"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/domain/order"
)

func TestCheckTime(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"the earliest instant", order.EarliestTime, true},
		{"the latest instant", order.LatestTime, true},
		{"a nanosecond before the earliest", order.EarliestTime.Add(-time.Nanosecond), false},
		{"a nanosecond after the latest", order.LatestTime.Add(time.Nanosecond), false},
		{"year 10000 in UTC", time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("", -(23*3600+59*60))), false},
		{"year 0", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"today", time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// when
			err := order.CheckTime("at", tt.at)
			// then
			if got := err == nil; got != tt.ok {
				t.Fatalf("CheckTime(%s) = %v, want ok %v", tt.at, err, tt.ok)
			}
			if got := order.InTimeBounds(tt.at); got != tt.ok {
				t.Fatalf("InTimeBounds(%s) = %v, want %v", tt.at, got, tt.ok)
			}
			var oe *order.Error
			if err != nil && (!errors.As(err, &oe) || oe.Fields[0].Field != "at" || oe.Fields[0].Code != order.FieldOutOfRange) {
				t.Fatalf("CheckTime error = %#v, want out_of_range on at", err)
			}
		})
	}
}

// Every instant within the bounds has a four-digit year whatever offset
// it is written in, so RFC 3339 text carries it both ways.
func TestTimeBoundsStayFourDigitYearsInEveryOffset(t *testing.T) {
	for _, at := range []time.Time{order.EarliestTime, order.LatestTime} {
		for _, offset := range []int{-(23*3600 + 59*60), 0, 23*3600 + 59*60} {
			text := at.In(time.FixedZone("", offset)).Format(time.RFC3339Nano)
			back, err := time.Parse(time.RFC3339Nano, text)
			if err != nil || !back.Equal(at) {
				t.Fatalf("%s in offset %d: %q read back as %v, %v", at, offset, text, back, err)
			}
		}
	}
}

func TestClampTime(t *testing.T) {
	inside := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	for at, want := range map[time.Time]time.Time{
		inside:                                   inside,
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC): order.EarliestTime,
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC): order.LatestTime,
		order.EarliestTime:                           order.EarliestTime,
		order.LatestTime:                             order.LatestTime,
	} {
		if got := order.ClampTime(at); !got.Equal(want) {
			t.Errorf("ClampTime(%s) = %s, want %s", at, got, want)
		}
	}
}
