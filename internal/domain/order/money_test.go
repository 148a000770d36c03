package order_test

import (
	"testing"

	"github.com/orderapi/orderapi/internal/domain/order"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in    string
		want  string
		valid bool
	}{
		{"19.99", "19.99", true},
		{"0", "0", true},
		{"0.0001", "0.0001", true},
		{"9999999999999.9999", "9999999999999.9999", true},
		{"10000000000000", "", false},
		{"1.00001", "", false},
		{"-1", "", false},
		{"+1", "", false},
		{"1E1000000000", "", false},
		{"1e2", "", false},
		{".5", "", false},
		{"5.", "", false},
		{" 5", "", false},
		{"", "", false},
		{"NaN", "", false},
		{"1,5", "", false},
	}
	for _, tt := range tests {
		got, err := order.ParseAmount("unit_price", tt.in)
		if tt.valid != (err == nil) {
			t.Errorf("ParseAmount(%q) error = %v, want valid=%v", tt.in, err, tt.valid)
			continue
		}
		if tt.valid && (!got.Equal(price(tt.want)) || got.String() != tt.want) {
			t.Errorf("ParseAmount(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestCurrencyFormat(t *testing.T) {
	tests := []struct {
		currency order.Currency
		amount   string
		want     string
	}{
		{"USD", "59.97", "59.97"},
		{"USD", "10", "10.00"},
		{"USD", "1.5000", "1.50"},
		{"USD", "0.0125", "0.0125"},
		{"JPY", "1000", "1000"},
		{"JPY", "1000.50", "1000.5"},
		{"KWD", "1.5", "1.500"},
		{"EUR", "0", "0.00"},
	}
	for _, tt := range tests {
		if got := tt.currency.Format(dec(tt.amount)); got != tt.want {
			t.Errorf("%s.Format(%s) = %q, want %q", tt.currency, tt.amount, got, tt.want)
		}
	}
}

func TestParseCurrency(t *testing.T) {
	for _, ok := range []string{"USD", "EUR", "JPY", "GBP"} {
		if _, err := order.ParseCurrency(ok); err != nil {
			t.Errorf("ParseCurrency(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"usd", "XXX", "US", "USDD", "", "ZZZ"} {
		if _, err := order.ParseCurrency(bad); err == nil {
			t.Errorf("ParseCurrency(%q) accepted", bad)
		}
	}
}

func TestParseStatus(t *testing.T) {
	for _, s := range order.Statuses {
		if got, err := order.ParseStatus(string(s)); err != nil || got != s {
			t.Errorf("ParseStatus(%q) = %q, %v", s, got, err)
		}
	}
	if _, err := order.ParseStatus("DRAFT"); err == nil {
		t.Error("ParseStatus accepted DRAFT")
	}
}
