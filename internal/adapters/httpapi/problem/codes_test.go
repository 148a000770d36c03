package problem

import "testing"

// TestEveryAppCodeHasATitle: an app error mapped to a status reads well
// as a problem.
func TestEveryAppCodeHasATitle(t *testing.T) {
	t.Parallel()
	for code := range appStatus {
		if _, ok := Titles[code]; !ok {
			t.Errorf("no title for %s", code)
		}
	}
}
