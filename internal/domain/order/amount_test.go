package order

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

func TestAmountArithmeticRefusesOverflow(t *testing.T) {
	tests := []struct {
		name string
		got  func() (int64, bool)
		want int64
		ok   bool
	}{
		{"max × 1", func() (int64, bool) { return mul64(math.MaxInt64, 1) }, math.MaxInt64, true},
		{"max × 2", func() (int64, bool) { return mul64(math.MaxInt64, 2) }, 0, false},
		{"min × -1", func() (int64, bool) { return mul64(math.MinInt64, -1) }, 0, false},
		{"min × 1", func() (int64, bool) { return mul64(math.MinInt64, 1) }, math.MinInt64, true},
		{"-2^62 × 2", func() (int64, bool) { return mul64(-1<<62, 2) }, math.MinInt64, true},
		{"2^62 × 2", func() (int64, bool) { return mul64(1<<62, 2) }, 0, false},
		{"max amount × max quantity", func() (int64, bool) { return mul64(maxAmountUnits, MaxQuantity) }, 0, false},
		{"3037000499²", func() (int64, bool) { return mul64(3037000499, 3037000499) }, 9223372030926249001, true},
		{"3037000500²", func() (int64, bool) { return mul64(3037000500, 3037000500) }, 0, false},
		{"max + 0", func() (int64, bool) { return add64(math.MaxInt64, 0) }, math.MaxInt64, true},
		{"max + 1", func() (int64, bool) { return add64(math.MaxInt64, 1) }, 0, false},
		{"min + -1", func() (int64, bool) { return add64(math.MinInt64, -1) }, 0, false},
		{"max + min", func() (int64, bool) { return add64(math.MaxInt64, math.MinInt64) }, -1, true},
		{"rescale 1 to 18 places", func() (int64, bool) { return rescale(1, 0, 18) }, 1e18, true},
		{"rescale 10 to 18 places", func() (int64, bool) { return rescale(10, 0, 18) }, 0, false},
		{"rescale 0 to 30 places", func() (int64, bool) { return rescale(0, 0, 30) }, 0, true},
		{"rescale 1 to 30 places", func() (int64, bool) { return rescale(1, 0, 30) }, 0, false},
	}
	for _, tt := range tests {
		got, ok := tt.got()
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s = %d, %v; want %d, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestAmountLimitsTheAPIAccepts(t *testing.T) {
	// Given the extremes ParseAmount accepts
	tests := []struct {
		text      string
		quantity  int64
		lineValid bool
		line      string
	}{
		{"9999999999999.9999", 1, true, "9999999999999.9999"},
		{"9999999999999.9999", 2, false, ""},
		{"0.0001", MaxQuantity, true, "100.0000"},
		{"9999999.9999", MaxQuantity, true, "9999999999900.0000"},
		{"10000000", MaxQuantity, false, ""},
		{"0", MaxQuantity, true, "0"},
		{"0000000000000.0000", 1, true, "0.0000"},
	}
	for _, tt := range tests {
		a, err := ParseAmount("unit_price", tt.text)
		if err != nil {
			t.Fatalf("ParseAmount(%q): %v", tt.text, err)
		}
		// Then each is exact, keeps its places, and agrees with decimal
		want := decimal.RequireFromString(tt.text)
		if !a.Decimal().Equal(want) || a.Decimal().Exponent() != want.Exponent() {
			t.Errorf("%q is %s, want %s", tt.text, a.Decimal(), want)
		}
		// and a line of it is valid exactly when decimal says it is within
		// MaxAmount, and is the same number at the same scale
		item := NewItem{ProductID: uuid.New(), ProductName: "Thing", Quantity: tt.quantity, UnitPrice: a}
		if err := item.Validate(); (err == nil) != tt.lineValid {
			t.Errorf("%s × %d: Validate = %v, want valid %v", tt.text, tt.quantity, err, tt.lineValid)
		}
		line := Item{Quantity: tt.quantity, UnitPrice: a}
		exact := want.Mul(decimal.NewFromInt(tt.quantity))
		if got := line.LineTotal(); !got.Equal(exact) || got.Exponent() != exact.Exponent() {
			t.Errorf("%s × %d = %s, want %s", tt.text, tt.quantity, got, exact)
		}
		if tt.lineValid {
			if got, ok := line.LineAmount(); !ok || got.String() != tt.line {
				t.Errorf("%s × %d = %s (%v), want %s", tt.text, tt.quantity, got, ok, tt.line)
			}
		}
	}
}

func TestTotalIsDecimalsSumExactly(t *testing.T) {
	// Given orders of random lines, some beyond what int64 holds
	rng := rand.New(rand.NewPCG(5, 6))
	for range 5000 {
		var o Order
		want := decimal.Zero
		for range rng.IntN(12) {
			units := rng.Int64N(maxAmountUnits + 1)
			if rng.IntN(4) == 0 {
				units = rng.Int64N(1000)
			}
			scale := uint8(rng.IntN(MaxAmountScale + 1))
			if rng.IntN(20) == 0 {
				scale = uint8(rng.IntN(maxScale + 1)) // beyond the API's
			}
			it := Item{UnitPrice: Amount{units: units, scale: scale}, Quantity: 1 + rng.Int64N(MaxQuantity)}
			o.Items = append(o.Items, it)
			want = want.Add(it.UnitPrice.Decimal().Mul(decimal.NewFromInt(it.Quantity)))
		}

		// When its total is taken
		got := o.Total()

		// Then it is decimal's sum, at decimal's exponent
		if !got.Equal(want) || got.Exponent() != want.Exponent() {
			t.Fatalf("total of %+v = %s, want %s", o.Items, got, want)
		}
		if a, ok := o.TotalAmount(); ok && (a.Decimal().String() != want.String() || a.Decimal().Exponent() != want.Exponent()) {
			t.Fatalf("TotalAmount of %+v = %s, want %s", o.Items, a, want)
		}
		// and the rule on MaxAmount agrees with decimal
		extra := Item{UnitPrice: Amount{units: rng.Int64N(maxAmountUnits + 1), scale: MaxAmountScale}, Quantity: 1}
		wantExceed := want.Add(extra.LineTotal()).GreaterThan(MaxAmount)
		if got := o.totalWouldExceed(extra); got != wantExceed {
			t.Fatalf("%s + %s beyond MaxAmount: %v, want %v", want, extra.LineTotal(), got, wantExceed)
		}
	}
}

func TestTotalAtMaxAmount(t *testing.T) {
	// Given an order whose total is MaxAmount exactly, over two lines
	half, _ := ParseAmount("x", "4999999999999.9999")
	var o Order
	o.Items = []Item{{UnitPrice: half, Quantity: 2}, {UnitPrice: Amount{units: 1, scale: 4}, Quantity: 1}}

	// Then its total is MaxAmount, and nothing more fits, not even 0.0001
	if got := o.Total(); !got.Equal(MaxAmount) || got.String() != "9999999999999.9999" {
		t.Errorf("total %s, want %s", got, MaxAmount)
	}
	for _, text := range []string{"0.0001", "0.01", "1"} {
		a, _ := ParseAmount("x", text)
		if !o.totalWouldExceed(Item{UnitPrice: a, Quantity: 1}) {
			t.Errorf("%s more does not exceed MaxAmount", text)
		}
	}
	if o.totalWouldExceed(Item{UnitPrice: Amount{}, Quantity: MaxQuantity}) {
		t.Error("0 more exceeds MaxAmount")
	}
}

func TestAmountTextAndFormat(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 20000 {
		a := Amount{units: rng.Int64N(maxAmountUnits + 1), scale: uint8(rng.IntN(maxScale + 1))}
		if rng.IntN(5) == 0 {
			a.units = rng.Int64N(100)
		}
		d := a.Decimal()
		// String writes every place, as decimal does.
		if got, want := a.String(), d.StringFixed(-d.Exponent()); got != want {
			t.Fatalf("%+v String = %q, want %q", a, got, want)
		}
		// FormatAmount is Format of the same decimal.
		for _, c := range []Currency{"USD", "JPY", "KWD"} {
			if got, want := c.FormatAmount(a), c.Format(d); got != want {
				t.Fatalf("%s.FormatAmount(%s) = %q, want %q", c, a, got, want)
			}
		}
		// and it comes back from decimal as it was.
		if back, ok := AmountFromDecimal(d); !ok || back != a {
			t.Fatalf("AmountFromDecimal(%s) = %+v, %v; want %+v", d, back, ok, a)
		}
	}
}

func TestAmountFromDecimalRefusesWhatDoesNotFit(t *testing.T) {
	for _, s := range []string{"9223372036854775808", "0.0000000000000000001", "-9223372036854775809", "1e19"} {
		if a, ok := AmountFromDecimal(decimal.RequireFromString(s)); ok {
			t.Errorf("AmountFromDecimal(%s) = %+v, fits", s, a)
		}
	}
	for s, want := range map[string]Amount{"9223372036854775807": {units: math.MaxInt64}, "1e18": {units: 1e18}, "0e30": {}, "-4.50": {units: -450, scale: 2}} {
		if a, ok := AmountFromDecimal(decimal.RequireFromString(s)); !ok || a != want {
			t.Errorf("AmountFromDecimal(%s) = %+v, %v; want %+v", s, a, ok, want)
		}
	}
}
