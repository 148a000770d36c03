package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/jwtauth"
)

const tokenUsage = `usage: orderapi token --role ROLE [--role ROLE...] [--subject ID] [--ttl 1h] [--client-id ID] [--dir DIR]

Prints a bearer token signed with the development key (the one a service
started with ORDERAPI_AUTH=dev accepts), made first if there is none.

  --role       customer, staff or service; repeat it for several roles
  --subject    who the token names (sub); required with --role customer,
               where it is the customer's id, a UUID; otherwise dev-ROLE
  --ttl        how long the token is valid (default 1h)
  --client-id  the client_id claim, if any
  --dir        the key's folder (default ORDERAPI_AUTH_DEV_DIR, else .orderapi-dev)
`

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
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q\n%s", fs.Arg(0), tokenUsage)
	case len(roles) == 0:
		return fmt.Errorf("name at least one --role\n%s", tokenUsage)
	case *subject == "" && slices.Contains(roles, "customer"):
		return errors.New("a customer token needs --subject, the customer's id (a UUID)")
	case *subject == "":
		*subject = "dev-" + strings.Join(roles, "-")
	}
	key, _, err := jwtauth.OpenDevKey(*dir)
	if err != nil {
		return err
	}
	tok, err := key.Mint(jwtauth.DevToken{
		Subject:       *subject,
		Roles:         roles,
		ClientID:      *clientID,
		TTL:           *ttl,
		RolesClaim:    cfg.Auth.RolesClaim,
		CustomerClaim: cfg.Auth.CustomerClaim,
	}, now)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}
