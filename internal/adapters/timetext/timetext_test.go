package timetext_test

import (
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/timetext"
)

func TestParseReadsWhatGoWritesOutsideFourDigitYears(t *testing.T) {
	tests := []struct {
		name string
		sent string // what a client sent, read as RFC 3339
	}{
		{"year 10000 in UTC", "9999-12-31T23:59:59-23:59"},
		{"year 10000, the farthest offset Go reads", "9999-12-31T23:59:59.999999-24:60"},
		{"year -1 in UTC", "0000-01-01T00:00:00+23:59"},
		{"year -1, the farthest offset Go reads", "0000-01-01T00:00:00+24:60"},
		{"a leap day four hundred years on", "9999-12-31T23:00:00-23:00"},
		{"an ordinary instant", "2026-12-04T10:11:12.123456Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// given an instant as an older build stored it: in UTC, with
			// as many digits as Go writes
			sent, err := time.Parse(time.RFC3339Nano, tt.sent)
			if err != nil {
				t.Fatal(err)
			}
			stored := sent.UTC().Format(time.RFC3339Nano)
			// when it is read back
			got, err := timetext.Parse(stored)
			// then it is the same instant
			if err != nil || !got.Equal(sent) || got.Location() != time.UTC {
				t.Fatalf("Parse(%q) = %v, %v; want %v in UTC", stored, got, err, sent.UTC())
			}
		})
	}
}

func TestNormalGivesFourDigitYearsWhereRFC3339Can(t *testing.T) {
	tests := []struct {
		sent string
		want string
	}{
		{"9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59-23:59"},
		{"0000-01-01T00:00:00+23:59", "0000-01-01T00:00:00+23:59"},
		{"2026-12-04T10:11:12+02:00", "2026-12-04T08:11:12Z"},
		// Beyond what ±23:59 can reach, the year stays as Go writes it:
		// still read back by Parse.
		{"9999-12-31T23:59:59-24:30", "10000-01-02T00:29:59Z"},
	}
	for _, tt := range tests {
		sent, err := time.Parse(time.RFC3339Nano, tt.sent)
		if err != nil {
			t.Fatal(err)
		}
		// when
		got := timetext.Format(sent, time.RFC3339Nano)
		// then
		if got != tt.want {
			t.Errorf("Format(%s) = %q, want %q", tt.sent, got, tt.want)
		}
		back, err := timetext.Parse(got)
		if err != nil || !back.Equal(sent) {
			t.Errorf("Parse(Format(%s)) = %v, %v", tt.sent, back, err)
		}
	}
}

func TestParseRefusesWhatIsNotATime(t *testing.T) {
	for _, s := range []string{"", "10000", "10000-13-01T00:00:00Z", "-1-01-01T00:00:00Z", "+10000-01-01T00:00:00Z",
		"0999-01-01T00:00:00", "99999999999-01-01T00:00:00Z", "1x000-01-01T00:00:00Z"} {
		if got, err := timetext.Parse(s); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", s, got)
		}
	}
}

// FuzzParse: whatever Parse accepts, Format writes as text that Parse
// reads back to the same instant.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"10000-01-01T23:58:59Z", "-0001-12-31T00:01:00Z", "2026-01-01T00:00:00.5+01:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, err := timetext.Parse(s)
		if err != nil {
			return
		}
		text := timetext.Format(at, time.RFC3339Nano)
		back, err := timetext.Parse(text)
		if err != nil || !back.Equal(at) {
			t.Fatalf("Parse(%q) = %v; Format = %q; read back %v, %v", s, at, text, back, err)
		}
	})
}

func TestParseRFC3339TakesOnlyRFC3339Offsets(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"2026-12-04T10:11:12Z", true},
		{"2026-12-04T10:11:12.5+23:59", true},
		{"2026-12-04T10:11:12-00:00", true},
		{"2026-12-04T10:11:12+24:00", false},
		{"2026-12-04T10:11:12-23:60", false},
		{"2026-12-04t10:11:12z", false},
		{"2026-12-04T10:11:12", false},
		{"2026-12-04T10:11:12,5Z", false},
	}
	for _, tt := range tests {
		_, err := timetext.ParseRFC3339(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseRFC3339(%q) = %v, want ok %v", tt.in, err, tt.ok)
		}
	}
}
