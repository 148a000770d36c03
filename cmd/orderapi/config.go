package main

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/httpapi"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth"
	"github.com/orderapi/orderapi/internal/adapters/ratelimit"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

const (
	defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/orderapi?sslmode=disable"
	defaultAddr        = ":8080"
	// defaultSnapshotEvery is how many events apart an order's snapshots
	// are, and so about the most a read folds (docs/performance.md).
	defaultSnapshotEvery = 100
)

// config is everything the environment sets.
type config struct {
	DatabaseURL     string
	Addr            string
	DefaultCurrency order.Currency
	CORSOrigins     []string
	LogLevel        string
	LogFormat       string
	// IdempotencyTTL is how long an Idempotency-Key is remembered.
	IdempotencyTTL time.Duration
	// SnapshotEvery: an order's state is snapshotted at the multiples of
	// this many events; 0 turns snapshots off.
	SnapshotEvery int
	// StateCache is how many orders' states a process keeps after its
	// commands; 0 keeps none.
	StateCache int
	// MigrateTimeout bounds a migration run; zero leaves each command its
	// own default (see migrateWait and serveMigrateWait).
	MigrateTimeout time.Duration
	// DebugAddr, when set, is where net/http/pprof's profiles are served:
	// a listener of its own, never the API's, since profiles expose the
	// process's internals.
	DebugAddr string
	// FeedStreams and FeedStreamsPerClient bound the live feeds open at
	// once, in all and per client.
	FeedStreams, FeedStreamsPerClient int
	// Auth is how bearer tokens are verified.
	Auth authConfig
	// MetricsAddr, when set, is where GET /metrics is served, on a
	// listener of its own, and the API's listener serves it no more.
	MetricsAddr string
	// CommandRate and ReadRate are what each caller may send.
	CommandRate, ReadRate ratelimit.Rate
	// RedisURL, when set, is the Redis server that keeps the rate limits,
	// shared by every replica; otherwise each replica counts on its own.
	RedisURL string
}

// Authentication modes (ORDERAPI_AUTH).
const (
	// authJWT verifies the tokens of an identity provider, by its JWKS.
	authJWT = "jwt"
	// authDev verifies tokens signed with a development key the service
	// makes and keeps in DevDir, which `orderapi token` signs with.
	authDev = "dev"
)

// defaultDevDir is where development mode keeps its signing key, relative
// to the working directory (git-ignored).
const defaultDevDir = ".orderapi-dev"

// authConfig is the authentication part of the configuration. Whether it
// is complete is serve's concern (authConfig.check): the other commands
// need none of it.
type authConfig struct {
	Mode string
	// ModeSet is whether ORDERAPI_AUTH named Mode, rather than leaving
	// the default.
	ModeSet bool
	// JWKSURL or JWKSFile is where the provider's keys are; Issuer and
	// Audience are what its tokens must say (jwt mode).
	JWKSURL, JWKSFile, Issuer, Audience string
	// RolesClaim and CustomerClaim name the claims holding the roles and
	// a customer's id.
	RolesClaim, CustomerClaim string
	// DevDir keeps the development signing key (dev mode, and orderapi
	// token).
	DevDir string
}

func loadAuth(getenv func(string) string) (authConfig, error) {
	a := authConfig{
		Mode:          getenv("ORDERAPI_AUTH"),
		JWKSURL:       getenv("ORDERAPI_AUTH_JWKS_URL"),
		JWKSFile:      getenv("ORDERAPI_AUTH_JWKS_FILE"),
		Issuer:        getenv("ORDERAPI_AUTH_ISSUER"),
		Audience:      getenv("ORDERAPI_AUTH_AUDIENCE"),
		RolesClaim:    getenv("ORDERAPI_AUTH_ROLES_CLAIM"),
		CustomerClaim: getenv("ORDERAPI_AUTH_CUSTOMER_CLAIM"),
		DevDir:        getenv("ORDERAPI_AUTH_DEV_DIR"),
	}
	a.ModeSet = a.Mode != ""
	switch a.Mode {
	case "":
		a.Mode = authJWT
	case authJWT, authDev:
	default:
		return authConfig{}, fmt.Errorf("ORDERAPI_AUTH %q: want jwt (the default: tokens of an identity provider) or dev", a.Mode)
	}
	if a.RolesClaim == "" {
		a.RolesClaim = jwtauth.DefaultRolesClaim
	}
	if a.CustomerClaim == "" {
		a.CustomerClaim = jwtauth.DefaultCustomerClaim
	}
	if a.DevDir == "" {
		a.DevDir = defaultDevDir
	}
	return a, nil
}

// check says what serve lacks to verify tokens, naming the variable. No
// setting turns authentication off.
func (a authConfig) check() error {
	if a.Mode == authDev {
		for name, v := range map[string]string{"ORDERAPI_AUTH_JWKS_URL": a.JWKSURL, "ORDERAPI_AUTH_JWKS_FILE": a.JWKSFile,
			"ORDERAPI_AUTH_ISSUER": a.Issuer, "ORDERAPI_AUTH_AUDIENCE": a.Audience} {
			if v != "" {
				return fmt.Errorf("ORDERAPI_AUTH=dev verifies its own development tokens (issuer %s, audience %s): unset %s, or set ORDERAPI_AUTH=jwt",
					jwtauth.DevIssuer, jwtauth.DevAudience, name)
			}
		}
		return nil
	}
	var missing []string
	switch {
	case a.JWKSURL == "" && a.JWKSFile == "":
		missing = append(missing, "ORDERAPI_AUTH_JWKS_URL (or ORDERAPI_AUTH_JWKS_FILE)")
	case a.JWKSURL != "" && a.JWKSFile != "":
		return errors.New("ORDERAPI_AUTH_JWKS_URL and ORDERAPI_AUTH_JWKS_FILE are both set: set one")
	}
	if a.Issuer == "" {
		missing = append(missing, "ORDERAPI_AUTH_ISSUER")
	}
	if a.Audience == "" {
		missing = append(missing, "ORDERAPI_AUTH_AUDIENCE")
	}
	if len(missing) > 0 {
		return fmt.Errorf("serve verifies bearer tokens and needs %s; for local development set ORDERAPI_AUTH=dev instead",
			strings.Join(missing, ", "))
	}
	if a.JWKSURL != "" {
		if u, err := url.Parse(a.JWKSURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("ORDERAPI_AUTH_JWKS_URL %q: want an https:// (or http://) URL", a.JWKSURL)
		}
	}
	return nil
}

func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{
		DebugAddr:   getenv("ORDERAPI_DEBUG_ADDR"),
		MetricsAddr: getenv("ORDERAPI_METRICS_ADDR"),
		RedisURL:    getenv("ORDERAPI_REDIS_URL"),
		DatabaseURL: getenv("DATABASE_URL"),
		Addr:        getenv("ORDERAPI_ADDR"),
		LogLevel:    getenv("LOG_LEVEL"),
		LogFormat:   getenv("LOG_FORMAT"),
	}
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = defaultDatabaseURL
	}
	if cfg.Addr == "" {
		cfg.Addr = defaultAddr
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = "info"
	}
	switch cfg.LogFormat {
	case "":
		cfg.LogFormat = "json"
	case "json", "console":
	default:
		return config{}, fmt.Errorf("LOG_FORMAT %q: want json or console", cfg.LogFormat)
	}
	currency := getenv("ORDERAPI_DEFAULT_CURRENCY")
	if currency == "" {
		currency = "USD"
	}
	c, err := order.ParseCurrency(currency)
	if err != nil {
		return config{}, fmt.Errorf("ORDERAPI_DEFAULT_CURRENCY %q: %w", currency, err)
	}
	cfg.DefaultCurrency = c
	cfg.IdempotencyTTL = app.DefaultIdempotencyTTL
	if v := getenv("ORDERAPI_IDEMPOTENCY_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return config{}, fmt.Errorf("ORDERAPI_IDEMPOTENCY_TTL %q: want a positive duration such as 24h or 90m", v)
		}
		cfg.IdempotencyTTL = d
	}
	if v := getenv("ORDERAPI_MIGRATE_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return config{}, fmt.Errorf("ORDERAPI_MIGRATE_TIMEOUT %q: want a positive duration such as 10m or 2h", v)
		}
		cfg.MigrateTimeout = d
	}
	cfg.SnapshotEvery = defaultSnapshotEvery
	if v := getenv("ORDERAPI_SNAPSHOT_EVERY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return config{}, fmt.Errorf("ORDERAPI_SNAPSHOT_EVERY %q: want a number of events, 0 or more (0 turns snapshots off)", v)
		}
		cfg.SnapshotEvery = n
	}
	cfg.StateCache = app.DefaultStateCacheSize
	if v := getenv("ORDERAPI_STATE_CACHE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return config{}, fmt.Errorf("ORDERAPI_STATE_CACHE %q: want a number of orders, 0 or more (0 keeps none)", v)
		}
		cfg.StateCache = n
	}
	if cfg.FeedStreams, err = streams(getenv, "ORDERAPI_FEED_STREAMS_MAX", httpapi.DefaultFeedStreams); err != nil {
		return config{}, err
	}
	if cfg.FeedStreamsPerClient, err = streams(getenv, "ORDERAPI_FEED_STREAMS_PER_CLIENT", httpapi.DefaultFeedStreamsPerClient); err != nil {
		return config{}, err
	}
	if cfg.Auth, err = loadAuth(getenv); err != nil {
		return config{}, err
	}
	if cfg.CommandRate, err = rate(getenv, "ORDERAPI_RATE_COMMANDS", httpapi.DefaultCommandRate); err != nil {
		return config{}, err
	}
	if cfg.ReadRate, err = rate(getenv, "ORDERAPI_RATE_READS", httpapi.DefaultReadRate); err != nil {
		return config{}, err
	}
	if cfg.RedisURL != "" {
		if _, err := parseRedisURL(cfg.RedisURL); err != nil {
			return config{}, err
		}
	}
	for _, o := range strings.Split(getenv("ORDERAPI_CORS_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			cfg.CORSOrigins = append(cfg.CORSOrigins, o)
		}
	}
	return cfg, nil
}

// streams reads a number of live feeds, 1 or more, from the variable
// name; def when it is unset.
func streams(getenv func(string) string, name string, def int) (int, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s %q: want a number of live feeds, 1 or more", name, v)
	}
	return n, nil
}

// rate reads a caller's rate from the variable name, as ratelimit.ParseRate
// does; def when it is unset.
func rate(getenv func(string) string, name string, def ratelimit.Rate) (ratelimit.Rate, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	r, err := ratelimit.ParseRate(v)
	if err != nil {
		return ratelimit.Rate{}, fmt.Errorf("%s %q: %w", name, v, err)
	}
	return r, nil
}
