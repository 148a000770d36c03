package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/httpapi"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth"
)

const tokenUsage = `usage: orderapi token --role ROLE [--role ROLE...] [--subject ID] [--ttl 1h] [--client-id ID] [--dir DIR]

Prints a bearer token signed with the development key (the one a service
started with ORDERAPI_AUTH=dev accepts), made first if there is none. It
refuses to run where the environment verifies an identity provider's
tokens (ORDERAPI_AUTH=jwt, or a JWKS, issuer or audience set): take tokens
from the provider there.

  --role       customer, staff or service; repeat it for several roles
  --subject    who the token names (sub); required with --role customer,
               where it is the customer's id, a UUID in lower case;
               otherwise dev-ROLE
  --ttl        how long the token is valid (default 1h, at most 24h)
  --client-id  the client_id claim, if any
  --dir        the key's folder (default ORDERAPI_AUTH_DEV_DIR, else .orderapi-dev);
               refused if others may write to it or read the key
`

// maxTokenTTL bounds a development token's lifetime: a token copied into
// a shell history or a script should not stay good for long.
const maxTokenTTL = jwtauth.MaxDevTTL

// token prints a development token for the principal the flags describe.
func token(cfg config, args []string, stdout io.Writer, now time.Time) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var roles []string
	fs.Func("role", "", func(r string) error { roles = append(roles, r); return nil })
	subject := fs.String("subject", "", "")
	ttl := fs.Duration("ttl", time.Hour, "")
	clientID := fs.String("client-id", "", "")
	dir := fs.String("dir", cfg.Auth.DevDir, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, err = io.WriteString(stdout, tokenUsage)
			return err
		}
		return fmt.Errorf("%w\n%s", err, tokenUsage)
	}
	if err := cfg.Auth.verifiesProvider(); err != nil {
		return err
	}
	switch {
	case *ttl <= 0:
		return fmt.Errorf("--ttl %s: a token's lifetime must be positive", *ttl)
	case *ttl > maxTokenTTL:
		return fmt.Errorf("--ttl %s: at most %s", *ttl, maxTokenTTL)
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q\n%s", fs.Arg(0), tokenUsage)
	case len(roles) == 0:
		return fmt.Errorf("name at least one --role\n%s", tokenUsage)
	case *subject == "" && slices.Contains(roles, "customer"):
		return errors.New("a customer token needs --subject, the customer's id (a UUID)")
	}
	key, _, err := jwtauth.OpenDevKey(*dir)
	if err != nil {
		return err
	}
	tok, err := devSigner{key: key, auth: cfg.Auth}.sign(roles, *subject, *clientID, *ttl, now)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

// devSigner signs development tokens for the claims the service reads:
// those `orderapi token` prints and, in development mode, those the
// console's sign-in asks for (POST /console/dev/token), alike.
type devSigner struct {
	key  *jwtauth.DevKey
	auth authConfig
}

// sign mints a token for roles and subject, valid for ttl from now; an
// empty subject is dev-ROLES (a customer's cannot be left out). What the
// key refuses is a *jwtauth.DevTokenError.
func (s devSigner) sign(roles []string, subject, clientID string, ttl time.Duration, now time.Time) (string, error) {
	if subject == "" && !slices.Contains(roles, "customer") && len(roles) > 0 {
		subject = "dev-" + strings.Join(roles, "-")
	}
	return s.key.Mint(jwtauth.DevToken{
		Subject:       subject,
		Roles:         roles,
		ClientID:      clientID,
		TTL:           ttl,
		RolesClaim:    s.auth.RolesClaim,
		CustomerClaim: s.auth.CustomerClaim,
	}, now)
}

// consoleDevTokens is what signs the console's development tokens: the
// development key's signer in development mode, and nothing otherwise,
// where the console's route for them then does not exist.
func consoleDevTokens(a authConfig) (httpapi.DevTokenMinter, error) {
	if a.Mode != authDev {
		return nil, nil
	}
	key, err := jwtauth.LoadDevKey(a.DevDir)
	if err != nil {
		return nil, err
	}
	return devSigner{key: key, auth: a}, nil
}

// MintDevToken is sign for the console, now: see httpapi.DevTokenMinter.
func (s devSigner) MintDevToken(roles []string, subject string, ttl time.Duration) (string, error) {
	return s.sign(roles, subject, "", ttl, time.Now())
}

// verifiesProvider refuses, naming the setting, an environment configured
// to verify an identity provider's tokens: a development token is of no
// use there, and making a development key there is a mistake to point
// out, not to follow.
func (a authConfig) verifiesProvider() error {
	for _, v := range []struct{ name, value string }{
		{"ORDERAPI_AUTH_JWKS_URL", a.JWKSURL}, {"ORDERAPI_AUTH_JWKS_FILE", a.JWKSFile},
		{"ORDERAPI_AUTH_ISSUER", a.Issuer}, {"ORDERAPI_AUTH_AUDIENCE", a.Audience},
	} {
		if v.value != "" {
			return fmt.Errorf("orderapi token signs development tokens, which only a service run with ORDERAPI_AUTH=dev accepts, "+
				"but %s is set: this environment verifies an identity provider's tokens; get one from the provider, "+
				"or unset %s for local development", v.name, v.name)
		}
	}
	if a.ModeSet && a.Mode == authJWT {
		return errors.New("orderapi token signs development tokens, which only a service run with ORDERAPI_AUTH=dev accepts, " +
			"but ORDERAPI_AUTH=jwt: this environment verifies an identity provider's tokens; get one from the provider, " +
			"or set ORDERAPI_AUTH=dev (or unset it) for local development")
	}
	return nil
}
