package jwtauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"
)

// Defaults of Config.
const (
	DefaultRolesClaim    = "roles"
	DefaultCustomerClaim = "sub"
	// DefaultCacheSize bounds the verified tokens remembered.
	DefaultCacheSize = 10_000
	// DefaultRefreshInterval is how often a JWKS URL is fetched again, so
	// that a key the provider withdraws stops being trusted.
	DefaultRefreshInterval = 5 * time.Minute
	// DefaultFileRefreshInterval is how often a JWKS file is read again:
	// reading a local file costs next to nothing.
	DefaultFileRefreshInterval = 10 * time.Second
	// DefaultUnknownKeyRefresh is the least time between two fetches
	// caused by tokens naming a kid the set does not hold.
	DefaultUnknownKeyRefresh = 10 * time.Second
	// DefaultRetryMax bounds the wait between two fetches that fail.
	DefaultRetryMax = 30 * time.Second
	// leeway is the clock difference tolerated on exp, nbf and iat.
	leeway = 60 * time.Second
)

// algorithms are the signature algorithms accepted: asymmetric ones only,
// so that a verifying key can never sign.
var algorithms = []string{jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg(), jwt.SigningMethodEdDSA.Alg()}

// Config says where the keys come from and what a token must say.
type Config struct {
	// Exactly one of JWKSURL, JWKSFile and JWKS: the set of public keys,
	// fetched from a URL, read from a file, or given (development mode,
	// tests).
	JWKSURL  string
	JWKSFile string
	JWKS     []byte
	// Issuer and Audience must be the token's iss and one of its aud:
	// required.
	Issuer, Audience string
	// RolesClaim names the claim listing the roles; DefaultRolesClaim if
	// empty. CustomerClaim names the claim holding a customer's UUID;
	// DefaultCustomerClaim if empty.
	RolesClaim, CustomerClaim string

	// Log reports key loads and failed fetches.
	Log zerolog.Logger
	// HTTPClient fetches JWKSURL; one with a 10s timeout if nil.
	HTTPClient *http.Client
	// RefreshInterval is how often the set is loaded again once loaded;
	// DefaultRefreshInterval for a URL and DefaultFileRefreshInterval for
	// a file if zero.
	RefreshInterval time.Duration
	// UnknownKeyRefresh is the least time between two loads caused by a
	// kid not in the set; DefaultUnknownKeyRefresh if zero.
	UnknownKeyRefresh time.Duration
	// RetryMin and RetryMax bound the wait after a failed load: it starts
	// at RetryMin (1s if zero) and doubles up to RetryMax
	// (DefaultRetryMax if zero).
	RetryMin, RetryMax time.Duration
	// CacheSize bounds the verified tokens remembered; DefaultCacheSize
	// if zero, none if negative.
	CacheSize int
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// Verifier authenticates bearer tokens. It is safe for concurrent use.
type Verifier struct {
	cfg    Config
	log    zerolog.Logger
	parser *jwt.Parser
	keys   *keyStore
	kf     keyfunc.Keyfunc
	cache  *tokenCache
}

// New returns a Verifier of cfg. It loads a given JWKS at once; a URL or
// a file is loaded by Run.
func New(cfg Config) (*Verifier, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	cfg.defaults()
	v := &Verifier{cfg: cfg, log: cfg.Log}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(algorithms),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(cfg.Now),
		// Non-canonical base64 would let one token be written many
		// ways; each would be verified and remembered anew.
		jwt.WithStrictDecoding(),
	)
	if cfg.CacheSize > 0 {
		v.cache = newTokenCache(cfg.CacheSize)
	}
	src, err := newSource(cfg)
	if err != nil {
		return nil, err
	}
	var limit *rate.Limiter
	if !src.static() {
		limit = rate.NewLimiter(rate.Every(cfg.UnknownKeyRefresh), 1)
	}
	v.keys = newKeyStore(src, limit, cfg.Log, v.forget)
	v.kf, err = keyfunc.New(keyfunc.Options{
		Storage: v.keys,
		// Keys that say they are for encryption never verify a
		// signature; most providers leave "use" out.
		UseWhitelist: []jwkset.USE{jwkset.UseSig, ""},
	})
	if err != nil {
		return nil, err
	}
	if src.static() {
		if err := v.keys.load(context.Background()); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (c Config) check() error {
	sources := 0
	for _, s := range []bool{c.JWKSURL != "", c.JWKSFile != "", c.JWKS != nil} {
		if s {
			sources++
		}
	}
	switch {
	case sources != 1:
		return errors.New("jwtauth: want exactly one of a JWKS URL, a JWKS file or a JWKS")
	case c.Issuer == "":
		return errors.New("jwtauth: no issuer")
	case c.Audience == "":
		return errors.New("jwtauth: no audience")
	case c.RefreshInterval < 0 || c.UnknownKeyRefresh < 0 || c.RetryMin < 0 || c.RetryMax < 0:
		return errors.New("jwtauth: negative interval")
	}
	return nil
}

func (c *Config) defaults() {
	if c.RolesClaim == "" {
		c.RolesClaim = DefaultRolesClaim
	}
	if c.CustomerClaim == "" {
		c.CustomerClaim = DefaultCustomerClaim
	}
	if c.RefreshInterval == 0 {
		c.RefreshInterval = DefaultRefreshInterval
		if c.JWKSFile != "" {
			c.RefreshInterval = DefaultFileRefreshInterval
		}
	}
	if c.UnknownKeyRefresh == 0 {
		c.UnknownKeyRefresh = DefaultUnknownKeyRefresh
	}
	if c.RetryMin == 0 {
		c.RetryMin = time.Second
	}
	if c.RetryMax == 0 {
		c.RetryMax = DefaultRetryMax
	}
	c.RetryMax = max(c.RetryMax, c.RetryMin)
	if c.CacheSize == 0 {
		c.CacheSize = DefaultCacheSize
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Authenticate verifies a bearer token and returns who it names. A
// refused token's error is an app.ErrInvalidToken saying why; before any
// key is loaded the error is app.ErrAuthUnavailable.
func (v *Verifier) Authenticate(ctx context.Context, token string) (app.Principal, error) {
	var key [sha256.Size]byte
	if v.cache != nil {
		key = sha256.Sum256([]byte(token))
		if p, ok := v.cache.get(key, v.cfg.Now()); ok {
			return p, nil
		}
	}
	if !v.keys.loaded() {
		return app.Principal{}, app.ErrAuthUnavailable
	}
	if why := repeatedNames(token); why != "" {
		return app.Principal{}, app.InvalidToken(why)
	}
	claims := jwt.MapClaims{}
	gen := v.keys.generation()
	tok, err := v.parser.ParseWithClaims(token, claims, v.keyfunc(ctx))
	if err != nil {
		return app.Principal{}, app.InvalidToken(reason(tok, err))
	}
	p, err := v.principal(claims)
	if err != nil {
		return app.Principal{}, err
	}
	// exp is required, so Expires is set; the entry never outlives it.
	if v.cache != nil && !p.Expires.IsZero() {
		v.cache.put(key, p, p.Expires, gen, v.cfg.Now())
	}
	return p, nil
}

// Ready fails until a key set has been loaded; a later failure to load
// keeps the set and readiness.
func (v *Verifier) Ready(context.Context) error {
	if v.keys.loaded() {
		return nil
	}
	return errNoKeys
}

// notReady is the readiness failure, with a reason that may be shown to
// whoever asks (it names no URL or path).
type notReady struct{ reason string }

func (e *notReady) Error() string        { return e.reason }
func (e *notReady) PublicReason() string { return e.reason }

var errNoKeys error = &notReady{reason: "no keys to verify bearer tokens have been loaded yet"}

// Run loads the key set, then again every RefreshInterval, retrying a
// failed load sooner, until ctx ends. A given JWKS needs no Run.
func (v *Verifier) Run(ctx context.Context) error {
	if v.keys.src.static() {
		<-ctx.Done()
		return ctx.Err()
	}
	retry := v.cfg.RetryMin
	for {
		wait := v.cfg.RefreshInterval
		if err := v.keys.load(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			wait = min(retry, wait)
			retry = min(2*retry, v.cfg.RetryMax)
			if v.keys.loaded() {
				v.log.Warn().Err(err).Dur("retry_in", wait).Msg("loading the keys that verify bearer tokens failed; the keys loaded before stay in use")
			} else {
				v.log.Error().Err(err).Dur("retry_in", wait).Msg("loading the keys that verify bearer tokens failed; every request is refused with 503 until they load")
			}
		} else {
			retry = v.cfg.RetryMin
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// forget drops every remembered token: the key set changed.
func (v *Verifier) forget(gen uint64) {
	if v.cache != nil {
		v.cache.reset(gen)
	}
}
