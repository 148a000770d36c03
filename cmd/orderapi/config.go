package main

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/httpapi"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth"
	"github.com/orderapi/orderapi/internal/adapters/natsrelay"
	"github.com/orderapi/orderapi/internal/adapters/postgres/standby"
	"github.com/orderapi/orderapi/internal/adapters/ratelimit"
	"github.com/orderapi/orderapi/internal/adapters/tracing"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

const (
	defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/orderapi?sslmode=disable"
	defaultAddr        = ":8080"
	// defaultSnapshotEvery is how many events apart an order's snapshots
	// are, and so about the most a read folds (docs/performance.md).
	defaultSnapshotEvery = 100
	// gcPercent is the garbage collector's target unless GOGC says
	// otherwise. The service's live heap is small (a few MiB) while every
	// request allocates, so at Go's default of 100 it collects hundreds of
	// times a second and spends a quarter of its CPU doing so; at 400 it
	// collects a quarter as often, for a heap still in the tens of MiB.
	gcPercent = 400
	// defaultNATSSource is the messages' CloudEvents source.
	defaultNATSSource = "/orderapi"
	// defaultNATSMaxAge is how long the stream keeps a message: 30 days.
	defaultNATSMaxAge = 720 * time.Hour
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
	// commands, as app.Config.StateCacheSize reads it: negative for none.
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
	// GCPercent is the garbage collector's target run sets, or 0 to leave
	// the runtime's: GOGC is set, and the runtime follows it.
	GCPercent int
	// NATS is where the events are published, when its URL is set.
	NATS natsConfig
	// Tracing is OpenTelemetry's, as the OTEL_* variables set it: off
	// unless they name an exporter.
	Tracing tracing.Config
	// ReadDatabaseURLs are hot standbys of DatabaseURL's database that
	// queries may read; none sends every query to the primary.
	ReadDatabaseURLs []string
	// ReadMaxLag: a standby further behind the primary is out of
	// rotation. ReadReplayWait: how long a query with a min_position
	// waits for a standby to replay it; 0 asks the primary at once.
	ReadMaxLag, ReadReplayWait time.Duration
	// MasterKey is where the master key that wraps customers' data keys
	// is kept.
	MasterKey masterKeyConfig
	// PersonalDataSealing is on, or off to measure what sealing costs
	// (development mode only; see sealingOff).
	PersonalDataSealing string
}

// masterKeyConfig names the files of the master keys: the current one,
// which wraps every new data key (required unless in development mode,
// where one is made in the development folder), and those it replaced,
// which still open the data keys they wrapped until `orderapi keys
// rewrap` has re-wrapped them all.
type masterKeyConfig struct {
	File          string
	PreviousFiles []string
}

// natsConfig is the relay's: the NATS server, the stream and its limits,
// and the messages' source.
type natsConfig struct {
	URL                   string
	Stream, SubjectPrefix string
	Source                string
	MaxAge                time.Duration
	MaxBytes              int64
	Replicas              int
	DuplicateWindow       time.Duration
	// PersonalData is the form personal data is published in:
	// personalDataClear or personalDataSealed.
	PersonalData string
}

// The forms of personal data on the broker (ORDERAPI_NATS_PERSONAL_DATA).
const (
	personalDataClear  = "clear"
	personalDataSealed = "sealed"
)

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

// The commands, and those that read each setting.
var (
	commands  = []string{"serve", "migrate", "check", "projections", "token", "nats", "keys", "personal-data"}
	serveOnly = []string{"serve"}
	logging   = []string{"serve", "migrate", "check", "projections", "keys", "personal-data"}
	databased = []string{"serve", "migrate", "check", "projections", "nats", "keys", "personal-data"}
	migrating = []string{"serve", "migrate"}
	decoding  = []string{"serve", "check", "projections"}
	// keyed are the commands that read or write personal data, and so
	// need the master key: every one that reads the events.
	keyed          = []string{"serve", "check", "projections", "nats", "keys", "personal-data"}
	authenticating = []string{"serve", "token"}
	// devMode: ORDERAPI_AUTH=dev is development mode, where the keyed
	// commands make a master key if none is set.
	devMode    = []string{"serve", "token", "check", "projections", "nats", "keys", "personal-data"}
	publishing = []string{"serve", "nats"}
)

// settings is every variable orderapi reads, in the order help lists
// them, each reading into c. Every command but help checks every value,
// whichever commands read it; what serve alone needs of them (a complete
// authentication, say) it checks itself.
func settings(c *config) []setting {
	ss := []setting{
		{name: "DATABASE_URL", cmds: databased, value: text(&c.DatabaseURL, defaultDatabaseURL),
			doc: "PostgreSQL URL; pgxpool options may be added (pool_max_conns, default 16; serve refuses fewer than its background workers keep plus 1)"},
		{name: "ORDERAPI_READ_DATABASE_URL", cmds: serveOnly, value: readURLs(&c.ReadDatabaseURLs),
			doc: "hot standbys streaming from DATABASE_URL's database, as postgres:// URLs separated by commas (one URL may name several hosts): orders, lists, histories and the feed are read from them while they are in rotation; commands, and reads with a min_position no standby has replayed yet, go to the primary"},
		{name: "ORDERAPI_READ_MAX_LAG", cmds: serveOnly,
			value: positiveDuration(&c.ReadMaxLag, standby.DefaultMaxLag, "5s or 500ms"),
			doc:   "a standby further behind the primary is out of rotation until it catches up"},
		{name: "ORDERAPI_READ_REPLAY_WAIT", cmds: serveOnly,
			value: durationUpTo(&c.ReadReplayWait, standby.DefaultReplayWait, maxReplayWait, "10ms, or 0 to read the primary at once"),
			doc:   "how long a read with a min_position waits for a standby to replay it before the primary answers; at most 1s"},
		{name: "ORDERAPI_MIGRATE_TIMEOUT", cmds: migrating,
			value: positiveDuration(&c.MigrateTimeout, 0, "10m or 2h").
				shown(fmt.Sprintf("%s for migrate, %s for serve", shortDuration(migrateWait), shortDuration(serveMigrateWait))),
			doc: "how long a migration run may take, waits included"},
		{name: "ORDERAPI_ADDR", cmds: serveOnly, value: text(&c.Addr, defaultAddr),
			doc: "listen address"},
		{name: "ORDERAPI_DEFAULT_CURRENCY", cmds: decoding, value: currency(&c.DefaultCurrency, "USD"),
			doc: "currency of orders created without one"},
		{name: "ORDERAPI_CORS_ORIGINS", cmds: serveOnly, value: list(&c.CORSOrigins),
			doc: "comma-separated origins allowed to call the API from a browser"},
		{name: "ORDERAPI_FEED_STREAMS_MAX", cmds: serveOnly,
			value: count(&c.FeedStreams, httpapi.DefaultFeedStreams, 1, "a number of live feeds, 1 or more"),
			doc:   "live feeds (GET /v1/events as text/event-stream) open at once in this process"},
		{name: "ORDERAPI_FEED_STREAMS_PER_CLIENT", cmds: serveOnly,
			value: count(&c.FeedStreamsPerClient, httpapi.DefaultFeedStreamsPerClient, 1, "a number of live feeds, 1 or more"),
			doc:   "live feeds open at once per caller, the subject of its token"},
		{name: "ORDERAPI_IDEMPOTENCY_TTL", cmds: serveOnly,
			value: positiveDuration(&c.IdempotencyTTL, app.DefaultIdempotencyTTL, "24h or 90m"),
			doc:   "how long an Idempotency-Key is remembered"},
		{name: "ORDERAPI_SNAPSHOT_EVERY", cmds: serveOnly,
			value: count(&c.SnapshotEvery, defaultSnapshotEvery, 0, "a number of events, 0 or more (0 turns snapshots off)"),
			doc:   "keep an order's state at every multiple of this many events; 0 turns snapshots off"},
		{name: "ORDERAPI_STATE_CACHE", cmds: serveOnly, value: stateCache(&c.StateCache),
			doc: "orders' states a replica keeps after its commands; 0 keeps none"},
		{name: "ORDERAPI_RATE_COMMANDS", cmds: serveOnly, value: rate(&c.CommandRate, httpapi.DefaultCommandRate),
			doc: `each caller's commands (POST, DELETE), as "<n>/<s|m|h> [burst <n>]"; beyond, 429 rate_limited. Raise it to allow more: it cannot be turned off`},
		{name: "ORDERAPI_RATE_READS", cmds: serveOnly, value: rate(&c.ReadRate, httpapi.DefaultReadRate),
			doc: "each caller's reads (GET, HEAD), likewise"},
		{name: "ORDERAPI_REDIS_URL", cmds: serveOnly, value: redisURL(&c.RedisURL),
			doc: "redis://[user:password@]host[:port][/db]: keep the rate limits there, shared by every replica (unset, each counts on its own). While Redis cannot be reached, requests pass unlimited, logged and counted (orderapi_rate_limit_failures_total)"},
		{name: "ORDERAPI_METRICS_ADDR", cmds: serveOnly, value: text(&c.MetricsAddr, ""),
			doc: "serve /metrics on this address, and not on the API's"},
		{name: "ORDERAPI_DEBUG_ADDR", cmds: serveOnly, value: text(&c.DebugAddr, ""),
			doc: "serve Go's profiles (/debug/pprof/) on this address"},
		{name: "ORDERAPI_AUTH", cmds: devMode, value: authMode(&c.Auth),
			doc: "how bearer tokens are verified: jwt, by an identity provider's keys; dev, by a development key the service makes and keeps in ORDERAPI_AUTH_DEV_DIR (never in production), where it also makes the master key unless ORDERAPI_MASTER_KEY_FILE is set"},
		{name: "ORDERAPI_AUTH_JWKS_URL", cmds: authenticating, value: text(&c.Auth.JWKSURL, ""),
			doc: "the provider's key set (JWKS), fetched every 5m, and for a key id it lacks at most every 10s; serve needs it (or the file), the issuer and the audience unless ORDERAPI_AUTH=dev"},
		{name: "ORDERAPI_AUTH_JWKS_FILE", cmds: authenticating, value: text(&c.Auth.JWKSFile, ""),
			doc: "the key set read from a file instead (again every 10s)"},
		{name: "ORDERAPI_AUTH_ISSUER", cmds: authenticating, value: text(&c.Auth.Issuer, ""),
			doc: "the iss tokens must carry"},
		{name: "ORDERAPI_AUTH_AUDIENCE", cmds: authenticating, value: text(&c.Auth.Audience, ""),
			doc: "the aud tokens must include"},
		{name: "ORDERAPI_AUTH_ROLES_CLAIM", cmds: authenticating, value: text(&c.Auth.RolesClaim, jwtauth.DefaultRolesClaim),
			doc: "the claim listing a token's roles: an array, or names separated by spaces"},
		{name: "ORDERAPI_AUTH_CUSTOMER_CLAIM", cmds: authenticating, value: text(&c.Auth.CustomerClaim, jwtauth.DefaultCustomerClaim),
			doc: "the claim holding a customer's id, a UUID in lower case"},
		{name: "ORDERAPI_AUTH_DEV_DIR", cmds: devMode, value: text(&c.Auth.DevDir, defaultDevDir),
			doc: "where development mode keeps its signing key and its master key; refused if others may write to it or read a key"},
		{name: "ORDERAPI_MASTER_KEY_FILE", cmds: keyed, value: text(&c.MasterKey.File, ""),
			doc: "the master key: a file of 64 hexadecimal digits (openssl rand -hex 32) that only its owner may read, in a folder only its owner may write to. It wraps each customer's data key, which seals the customer's personal data; without it none can be read. Required unless ORDERAPI_AUTH=dev. Keep it apart from the database and its backups"},
		{name: "ORDERAPI_MASTER_KEY_PREVIOUS_FILES", cmds: keyed, value: list(&c.MasterKey.PreviousFiles),
			doc: "comma-separated files of master keys that ORDERAPI_MASTER_KEY_FILE replaced: they still open the data keys they wrapped until orderapi keys rewrap has re-wrapped them all under the current one, and recognise the retries of Idempotency-Key claims fingerprinted under them until those expire"},
		{name: "ORDERAPI_PERSONAL_DATA_SEALING", cmds: serveOnly,
			value: oneOf(&c.PersonalDataSealing, "want on, or off (development mode only)", sealingOn, sealingOff),
			doc:   "on; off stores personal data in clear, to measure what sealing costs: refused unless ORDERAPI_AUTH=dev, and on a database that holds any data key"},
		{name: "ORDERAPI_NATS_URL", cmds: publishing, value: text(&c.NATS.URL, ""),
			doc: "nats://host:4222 (several comma separated): publish every event to NATS JetStream, once, in feed order, from one replica at a time (unset, nothing is published and NATS is not needed)"},
		{name: "ORDERAPI_NATS_STREAM", cmds: publishing, value: text(&c.NATS.Stream, natsrelay.DefaultStream),
			doc: "the JetStream stream of the events, created when missing; an existing one is never deleted or re-created"},
		{name: "ORDERAPI_NATS_SUBJECT_PREFIX", cmds: publishing, value: text(&c.NATS.SubjectPrefix, natsrelay.DefaultSubjectPrefix),
			doc: "events go to <prefix>.<EventType>.<order_id>; the stream holds <prefix>.>"},
		{name: "ORDERAPI_NATS_SOURCE", cmds: publishing, value: text(&c.NATS.Source, defaultNATSSource),
			doc: "the CloudEvents source of the messages, a URI-reference"},
		{name: "ORDERAPI_NATS_MAX_AGE", cmds: publishing, value: duration(&c.NATS.MaxAge, defaultNATSMaxAge, "720h, or 0 to keep messages for ever"),
			doc: "how long the stream keeps a message; 0 keeps it for ever. The relay resumes after the stream's last message, so keep it longer than the service may go without an event"},
		{name: "ORDERAPI_NATS_MAX_BYTES", cmds: publishing, value: byteLimit(&c.NATS.MaxBytes),
			doc: "the stream's size limit in bytes, the oldest messages discarded beyond it; -1 for none"},
		{name: "ORDERAPI_NATS_REPLICAS", cmds: publishing, value: count(&c.NATS.Replicas, 1, 1, "a number of replicas, 1 or more"),
			doc: "copies of the stream a JetStream cluster keeps"},
		{name: "ORDERAPI_NATS_DUPLICATE_WINDOW", cmds: publishing,
			value: positiveDuration(&c.NATS.DuplicateWindow, natsrelay.DefaultDuplicateWindow, "2m or 1h"),
			doc:   "how long the stream remembers a Nats-Msg-Id, answering a message sent again as a duplicate; at most ORDERAPI_NATS_MAX_AGE unless that is 0"},
		{name: "ORDERAPI_NATS_PERSONAL_DATA", cmds: publishing,
			value: oneOf(&c.NATS.PersonalData, "want clear or sealed", personalDataClear, personalDataSealed),
			doc:   "clear: messages carry personal data in clear, as the API shows it; sealed: as the database keeps it, sealed text that only the service's master key opens, so that an erasure reaches the messages already in the stream too (consumers read the clear values from the API)"},
	}
	// OpenTelemetry's standard variables, read and checked as the
	// specification says (internal/adapters/tracing).
	for _, v := range tracing.Variables(&c.Tracing) {
		ss = append(ss, setting{name: v.Name, cmds: serveOnly, doc: v.Doc,
			value: value{def: v.Default, set: func(_, s string) error { return v.Set(s) }}})
	}
	return append(ss, []setting{
		// The logger checks the level it is given: token, which logs
		// nothing, accepts any.
		{name: "LOG_LEVEL", cmds: logging, value: text(&c.LogLevel, "info"),
			doc: "trace|debug|info|warn|error"},
		{name: "LOG_FORMAT", cmds: logging, value: oneOf(&c.LogFormat, "want json or console", "json", "console"),
			doc: "json|console"},
		{name: "GOGC", cmds: commands, value: gcTarget(&c.GCPercent),
			doc: "the Go garbage collector's target; orderapi sets its own unless GOGC is set (Go's default is 100)"},
	}...)
}

// loadConfig reads every setting from getenv. It names each value it
// refuses, and what the variable wants.
func loadConfig(getenv func(string) string) (config, error) {
	var cfg config
	var errs []error
	for _, s := range settings(&cfg) {
		if err := s.set(s.name, getenv(s.name)); err != nil {
			errs = append(errs, err)
		}
	}
	if n := cfg.NATS; errs == nil && n.MaxAge > 0 && n.DuplicateWindow > n.MaxAge {
		// NATS refuses such a stream: say so now, not in the relay's log.
		errs = append(errs, fmt.Errorf("ORDERAPI_NATS_DUPLICATE_WINDOW %s: want at most ORDERAPI_NATS_MAX_AGE (%s)",
			shortDuration(n.DuplicateWindow), shortDuration(n.MaxAge)))
	}
	if err := errors.Join(errs...); err != nil {
		return config{}, err
	}
	return cfg, nil
}

// stateCache is ORDERAPI_STATE_CACHE, where 0 keeps none: app.Config's
// none is negative, its 0 the default.
func stateCache(p *int) value {
	v := count(p, app.DefaultStateCacheSize, 0, "a number of orders, 0 or more (0 keeps none)")
	set := v.set
	v.set = func(name, s string) error {
		if err := set(name, s); err != nil {
			return err
		}
		if *p == 0 {
			*p = -1
		}
		return nil
	}
	return v
}

// redisURL is ORDERAPI_REDIS_URL, checked as the rate limiter reads it.
func redisURL(p *string) value {
	return value{set: func(_, v string) error {
		if v != "" {
			if _, err := parseRedisURL(v); err != nil {
				return err
			}
		}
		*p = v
		return nil
	}}
}

// authMode is ORDERAPI_AUTH, remembering whether it was set: orderapi
// token refuses an explicit jwt.
func authMode(a *authConfig) value {
	v := oneOf(&a.Mode, "want jwt (the default: tokens of an identity provider) or dev", authJWT, authDev)
	set := v.set
	v.set = func(name, s string) error {
		a.ModeSet = s != ""
		return set(name, s)
	}
	return v
}

// gcTarget is GOGC: the runtime reads it itself, and orderapi sets
// gcPercent only when it is unset.
func gcTarget(p *int) value {
	return value{def: strconv.Itoa(gcPercent), set: func(_, v string) error {
		if v == "" {
			*p = gcPercent
		}
		return nil
	}}
}

// byteLimit is a size in bytes, 1 or more, or -1 for none; none when unset.
func byteLimit(p *int64) value {
	return value{def: "-1", set: func(name, v string) error {
		if v == "" {
			*p = -1
			return nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n == 0 || n < -1 {
			return fmt.Errorf("%s %q: want a number of bytes, 1 or more, or -1 for no limit", name, v)
		}
		*p = n
		return nil
	}}
}

// maxReplayWait bounds ORDERAPI_READ_REPLAY_WAIT: a read with a position
// waits 2s in all (standby.DefaultPositionWait), the replay included; a
// longer replay wait would leave the primary no time to answer.
const maxReplayWait = time.Second

// readURLs is ORDERAPI_READ_DATABASE_URL: PostgreSQL URLs separated by
// commas. A URL's own commas, between the hosts of a multi-host URL, do
// not separate: only a comma before another scheme:// does.
// Each must parse as DATABASE_URL does, and name a database of its own
// (one read twice would count twice in the rotation); the error, like
// DATABASE_URL's, says what is wrong and which URL, never the URL, which
// may hold a password. A value of blanks, or a blank entry, is a mistake,
// not "no standbys".
func readURLs(p *[]string) value {
	return value{set: func(name, v string) error {
		if v == "" {
			return nil
		}
		urls, err := splitURLs(v)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		seen := map[string]int{}
		for i, u := range urls {
			if !hasPostgresScheme(u) {
				return fmt.Errorf("%s: URL %d of %d does not start with postgres:// or postgresql://", name, i+1, len(urls))
			}
			cfg, err := pgxpool.ParseConfig(u)
			if err != nil {
				return fmt.Errorf("%s: URL %d of %d is not a valid PostgreSQL URL: %w", name, i+1, len(urls), err)
			}
			c := cfg.ConnConfig
			at := fmt.Sprintf("database %s at %s:%d", c.Database, c.Host, c.Port)
			if j, ok := seen[at]; ok {
				return fmt.Errorf("%s: URL %d of %d names the same %s as URL %d", name, i+1, len(urls), at, j)
			}
			seen[at] = i + 1
		}
		*p = urls
		return nil
	}}
}

// splitURLs splits v at the commas that start another URL (scheme://),
// refusing blank entries.
func splitURLs(v string) ([]string, error) {
	var urls []string
	parts := strings.Split(v, ",")
	for i, part := range parts {
		part = strings.TrimSpace(part)
		switch {
		case part == "" && len(parts) == 1:
			return nil, errors.New("only blanks: unset it to read the primary alone")
		case part == "":
			return nil, fmt.Errorf("entry %d of %d, between commas, is empty", i+1, len(parts))
		case len(urls) > 0 && !strings.Contains(part, "://"):
			urls[len(urls)-1] += "," + part
		default:
			urls = append(urls, part)
		}
	}
	return urls, nil
}

func hasPostgresScheme(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}
