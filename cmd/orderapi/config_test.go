package main

import (
	"cmp"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/httpapi"
	"github.com/orderapi/orderapi/internal/app"
)

func TestIdempotencyTTLConfig(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 24 * time.Hour, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute} {
		cfg, err := loadConfig(env(map[string]string{"ORDERAPI_IDEMPOTENCY_TTL": v}))
		if err != nil || cfg.IdempotencyTTL != want {
			t.Errorf("ORDERAPI_IDEMPOTENCY_TTL=%q: %s, %v; want %s", v, cfg.IdempotencyTTL, err, want)
		}
	}
}

func TestSnapshotEveryConfig(t *testing.T) {
	for v, want := range map[string]int{"": defaultSnapshotEvery, "0": 0, "1": 1, "250": 250} {
		cfg, err := loadConfig(env(map[string]string{"ORDERAPI_SNAPSHOT_EVERY": v}))
		if err != nil || cfg.SnapshotEvery != want {
			t.Errorf("ORDERAPI_SNAPSHOT_EVERY=%q: %d, %v; want %d", v, cfg.SnapshotEvery, err, want)
		}
	}
	for _, v := range []string{"-1", "ten", "1.5", " 5", "99999999999999999999"} {
		_, err := loadConfig(env(map[string]string{"ORDERAPI_SNAPSHOT_EVERY": v}))
		if err == nil || !strings.Contains(err.Error(), "ORDERAPI_SNAPSHOT_EVERY") {
			t.Errorf("ORDERAPI_SNAPSHOT_EVERY=%q: %v; want an error naming the variable", v, err)
		}
	}
}

func TestStateCacheConfig(t *testing.T) {
	for v, want := range map[string]int{"": app.DefaultStateCacheSize, "1": 1, "100000": 100000} {
		cfg, err := loadConfig(env(map[string]string{"ORDERAPI_STATE_CACHE": v}))
		if err != nil || cfg.StateCache != want {
			t.Errorf("ORDERAPI_STATE_CACHE=%q: %d, %v; want %d", v, cfg.StateCache, err, want)
		}
	}
	for _, v := range []string{"-1", "lots", "2.5"} {
		_, err := loadConfig(env(map[string]string{"ORDERAPI_STATE_CACHE": v}))
		if err == nil || !strings.Contains(err.Error(), "ORDERAPI_STATE_CACHE") {
			t.Errorf("ORDERAPI_STATE_CACHE=%q: %v; want an error naming the variable", v, err)
		}
	}
	// 0 turns the service's cache off; its own zero means the default.
	if cfg, err := loadConfig(env(map[string]string{"ORDERAPI_STATE_CACHE": "0"})); err != nil || cfg.StateCache >= 0 {
		t.Errorf("ORDERAPI_STATE_CACHE=0: %d, %v; want the service's none (negative)", cfg.StateCache, err)
	}
}

func TestNATSPersonalDataConfig(t *testing.T) {
	for v, want := range map[string]string{"": personalDataClear, "clear": personalDataClear, "sealed": personalDataSealed} {
		cfg, err := loadConfig(env(map[string]string{"ORDERAPI_NATS_PERSONAL_DATA": v}))
		if err != nil || cfg.NATS.PersonalData != want {
			t.Errorf("ORDERAPI_NATS_PERSONAL_DATA=%q: %q, %v; want %q", v, cfg.NATS.PersonalData, err, want)
		}
	}
	for _, v := range []string{"encrypted", "Sealed", "none", " clear"} {
		_, err := loadConfig(env(map[string]string{"ORDERAPI_NATS_PERSONAL_DATA": v}))
		if err == nil || !strings.Contains(err.Error(), "ORDERAPI_NATS_PERSONAL_DATA") || !strings.Contains(err.Error(), "clear or sealed") {
			t.Errorf("ORDERAPI_NATS_PERSONAL_DATA=%q: %v; want an error naming the variable and its values", v, err)
		}
	}
}

// TestNATSDuplicateWindowWithinMaxAge: NATS refuses a stream whose
// duplicate window outlasts its messages, so such settings are refused at
// start, not left for the relay to fail on for ever.
func TestNATSDuplicateWindowWithinMaxAge(t *testing.T) {
	// Given a max age shorter than the duplicate window, the default's or
	// a set one
	for _, vars := range []map[string]string{
		{"ORDERAPI_NATS_MAX_AGE": "3s"},
		{"ORDERAPI_NATS_MAX_AGE": "1m", "ORDERAPI_NATS_DUPLICATE_WINDOW": "90s"},
	} {
		// When the configuration is loaded, it is refused, naming both
		_, err := loadConfig(env(vars))
		if err == nil || !strings.Contains(err.Error(), "ORDERAPI_NATS_DUPLICATE_WINDOW") || !strings.Contains(err.Error(), "ORDERAPI_NATS_MAX_AGE") {
			t.Errorf("%v: %v; want an error naming both variables", vars, err)
		}
	}
	// And a window within the max age, or messages kept for ever, is taken
	for _, vars := range []map[string]string{
		{"ORDERAPI_NATS_MAX_AGE": "2m"},
		{"ORDERAPI_NATS_MAX_AGE": "0", "ORDERAPI_NATS_DUPLICATE_WINDOW": "10h"},
		{"ORDERAPI_NATS_MAX_AGE": "1m", "ORDERAPI_NATS_DUPLICATE_WINDOW": "30s"},
	} {
		if _, err := loadConfig(env(vars)); err != nil {
			t.Errorf("%v: %v", vars, err)
		}
	}
}

func TestMigrateTimeoutConfig(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 0, "90s": 90 * time.Second, "2h": 2 * time.Hour} {
		cfg, err := loadConfig(env(map[string]string{"ORDERAPI_MIGRATE_TIMEOUT": v}))
		if err != nil || cfg.MigrateTimeout != want {
			t.Errorf("ORDERAPI_MIGRATE_TIMEOUT=%q: %s, %v; want %s", v, cfg.MigrateTimeout, err, want)
		}
	}
	for _, v := range []string{"0s", "-1m", "soon", "10"} {
		_, err := loadConfig(env(map[string]string{"ORDERAPI_MIGRATE_TIMEOUT": v}))
		if err == nil || !strings.Contains(err.Error(), "ORDERAPI_MIGRATE_TIMEOUT") {
			t.Errorf("ORDERAPI_MIGRATE_TIMEOUT=%q: %v; want an error naming the variable", v, err)
		}
	}
}

func TestFeedStreamsConfig(t *testing.T) {
	cfg, err := loadConfig(env(nil))
	if err != nil || cfg.FeedStreams != httpapi.DefaultFeedStreams || cfg.FeedStreamsPerClient != httpapi.DefaultFeedStreamsPerClient {
		t.Errorf("unset: %d, %d, %v; want the defaults", cfg.FeedStreams, cfg.FeedStreamsPerClient, err)
	}
	cfg, err = loadConfig(env(map[string]string{"ORDERAPI_FEED_STREAMS_MAX": "2000", "ORDERAPI_FEED_STREAMS_PER_CLIENT": "1"}))
	if err != nil || cfg.FeedStreams != 2000 || cfg.FeedStreamsPerClient != 1 {
		t.Errorf("set: %d, %d, %v; want 2000, 1", cfg.FeedStreams, cfg.FeedStreamsPerClient, err)
	}
	for _, name := range []string{"ORDERAPI_FEED_STREAMS_MAX", "ORDERAPI_FEED_STREAMS_PER_CLIENT"} {
		for _, v := range []string{"0", "-1", "many", "1.5"} {
			_, err := loadConfig(env(map[string]string{name: v}))
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%q: %v; want an error naming the variable", name, v, err)
			}
		}
	}
}

// TestHelpListsEveryVariable: each variable the command names, in
// config.go or anywhere else, is in orderapi help.
func TestHelpListsEveryVariable(t *testing.T) {
	sources, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var source []byte
	for _, name := range sources {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		source = append(source, b...)
	}
	var help strings.Builder
	if err := run(context.Background(), []string{"orderapi", "help"}, env(nil), &help); err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`"((?:ORDERAPI|LOG)_[A-Z_]+|DATABASE_URL|GOGC)"`).FindAllStringSubmatch(string(source), -1)
	if len(names) < 10 {
		t.Fatalf("found %d variables in the command's source", len(names))
	}
	for _, m := range names {
		if !strings.Contains(help.String(), m[1]) {
			t.Errorf("orderapi help does not list %s", m[1])
		}
	}
}

// TestHelpShowsEachDefault: each default help shows is what an unset
// variable leaves, and help shows it next to the variable.
func TestHelpShowsEachDefault(t *testing.T) {
	// Given help, and the configuration of an empty environment
	var help strings.Builder
	if err := run(context.Background(), []string{"orderapi", "help"}, env(nil), &help); err != nil {
		t.Fatal(err)
	}
	unset, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings(&config{}) {
		if s.def == "" || !strings.Contains(help.String(), "default "+s.def) {
			if s.def != "" {
				t.Errorf("help does not show %s's default %s", s.name, s.def)
			}
			continue
		}
		// These defaults are not values: each command has its own limit,
		// and GOGC set leaves the runtime its own.
		if s.name == "ORDERAPI_MIGRATE_TIMEOUT" || s.name == "GOGC" {
			continue
		}
		// When the variable is set to the default help shows
		cfg, err := loadConfig(env(map[string]string{s.name: s.def}))
		// Then the configuration is the unset one, but for recording that
		// ORDERAPI_AUTH was set (orderapi token refuses an explicit jwt)
		if s.name == "ORDERAPI_AUTH" {
			unset.Auth.ModeSet = true
		}
		if err != nil || !reflect.DeepEqual(cfg, unset) {
			t.Errorf("%s=%q: %+v, %v; want what unset gives, %+v", s.name, s.def, cfg, err, unset)
		}
		unset.Auth.ModeSet = false
	}
}

// TestREADMEListsEverySetting: the README's table of variables has a row
// for each setting, with the default help shows, and no other rows.
func TestREADMEListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z_]+)` \\| ([^|]+) \\|").FindAllStringSubmatch(string(readme), -1) {
		rows[m[1]] = strings.ReplaceAll(m[2], "`", "")
	}
	for _, s := range settings(&config{}) {
		def, ok := rows[s.name]
		switch {
		case !ok:
			t.Errorf("README.md has no row for %s", s.name)
		case def != cmp.Or(s.def, "none"):
			t.Errorf("README.md gives %s the default %q, help %q", s.name, def, cmp.Or(s.def, "none"))
		}
		delete(rows, s.name)
	}
	for name := range rows {
		t.Errorf("README.md lists %s, which orderapi does not read", name)
	}
}

func TestReadDatabaseURLConfig(t *testing.T) {
	for v, want := range map[string][]string{
		"":                           nil,
		"postgres://a:5432/orderapi": {"postgres://a:5432/orderapi"},
		"postgres://a/orderapi, postgresql://b/orderapi?sslmode=disable": {"postgres://a/orderapi", "postgresql://b/orderapi?sslmode=disable"},
		// A multi-host URL's commas stay within it.
		"postgres://a:5432,b:5433/orderapi?target_session_attrs=standby,postgres://c/orderapi": {
			"postgres://a:5432,b:5433/orderapi?target_session_attrs=standby", "postgres://c/orderapi"},
	} {
		cfg, err := loadConfig(env(map[string]string{"ORDERAPI_READ_DATABASE_URL": v}))
		if err != nil || !reflect.DeepEqual(cfg.ReadDatabaseURLs, want) {
			t.Errorf("ORDERAPI_READ_DATABASE_URL=%q: %q, %v; want %q", v, cfg.ReadDatabaseURLs, err, want)
		}
	}
	for _, v := range []string{"host=a dbname=orderapi", "postgres://a/orderapi,mysql://b/x", "postgres://u:secret@a/orderapi?sslmode=bogus",
		// Blanks, a blank entry and one database twice are mistakes.
		" ", "postgres://u:secret@a/orderapi,,postgres://b/orderapi", "postgres://u:secret@a/orderapi,",
		"postgres://u:secret@a/orderapi,postgres://u:secret@a:5432/orderapi?sslmode=disable"} {
		_, err := loadConfig(env(map[string]string{"ORDERAPI_READ_DATABASE_URL": v}))
		if err == nil || !strings.Contains(err.Error(), "ORDERAPI_READ_DATABASE_URL") || strings.Contains(err.Error(), "secret") {
			t.Errorf("ORDERAPI_READ_DATABASE_URL=%q: %v; want an error naming the variable, not the password", v, err)
		}
	}
	// A replay wait longer than a read with a position may wait in all
	// is refused.
	if _, err := loadConfig(env(map[string]string{"ORDERAPI_READ_REPLAY_WAIT": "1h"})); err == nil || !strings.Contains(err.Error(), "at most 1s") {
		t.Errorf("ORDERAPI_READ_REPLAY_WAIT=1h: %v, want it refused as more than 1s", err)
	}
	cfg, err := loadConfig(env(map[string]string{"ORDERAPI_READ_MAX_LAG": "2s", "ORDERAPI_READ_REPLAY_WAIT": "0"}))
	if err != nil || cfg.ReadMaxLag != 2*time.Second || cfg.ReadReplayWait != 0 {
		t.Errorf("ORDERAPI_READ_MAX_LAG=2s, ORDERAPI_READ_REPLAY_WAIT=0: %s, %s, %v", cfg.ReadMaxLag, cfg.ReadReplayWait, err)
	}
}
