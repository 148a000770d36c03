package main

import "testing"

func TestConfigRefusesNonsense(t *testing.T) {
	for _, env := range []map[string]string{
		{"BENCH_CLIENTS": "1,x"},
		{"BENCH_CLIENTS": "0"},
		{"BENCH_ROUNDS": "-1"},
		{"BENCH_WINDOW": "0s"},
		{"BENCH_WARMUP": "soon"},
		{"BENCH_LONG": "10,,100"},
		{"BENCH_LONG": "1"},
		{"BENCH_LONG": "19900", "BENCH_LONG_COMMANDS": "100"},
	} {
		if _, err := loadConfig(func(k string) string { return env[k] }); err == nil {
			t.Errorf("%v accepted", env)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := loadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Clients) != 3 || cfg.Clients[2] != 32 || cfg.Rounds != 5 || cfg.Out != "bench-results.json" || !cfg.runs(addItemName) {
		t.Errorf("defaults: %+v", cfg)
	}
	only, err := loadConfig(func(k string) string {
		if k == "BENCH_SCENARIOS" {
			return "get order, long stream"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if !only.runs(getOrderName) || !only.runs(longStreamName) || only.runs(addItemName) {
		t.Errorf("BENCH_SCENARIOS: %v", only.Only)
	}

	// Naming one side of a pair measures both.
	paired, err := loadConfig(func(k string) string {
		if k == "BENCH_SCENARIOS" {
			return "place order"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if !paired.runs(placeOrderName) || !paired.runs(placeClearName) || paired.runs(getPlacedOrderName) {
		t.Errorf("BENCH_SCENARIOS of one side of a pair: %v", paired.Only)
	}
}
