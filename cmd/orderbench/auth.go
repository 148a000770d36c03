package main

import (
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth"
	"github.com/orderapi/orderapi/internal/adapters/personaldata"
	"github.com/orderapi/orderapi/internal/adapters/postgres/datakeys"
)

// tokenTTL outlasts any run.
const tokenTTL = 24 * time.Hour

// tokens are the bearer tokens the benchmark sends. The servers run with
// authentication on, in development mode, with a key the benchmark makes
// in its temporary folder: each simulated customer sends a token of its
// own, and what customers may not do (the long-stream commands on orders
// seeded straight into the store, /metrics) a staff token.
type tokens struct {
	dir   string
	key   *jwtauth.DevKey
	staff string
}

func newTokens(dir string) (*tokens, error) {
	key, _, err := jwtauth.OpenDevKey(dir)
	if err != nil {
		return nil, err
	}
	staff, err := key.Mint(jwtauth.DevToken{Subject: "orderbench", Roles: []string{"staff", "service"}, TTL: tokenTTL}, time.Now())
	if err != nil {
		return nil, err
	}
	return &tokens{dir: dir, key: key, staff: staff}, nil
}

// customer is a token of the customer id.
func (t *tokens) customer(id uuid.UUID) (string, error) {
	return t.key.Mint(jwtauth.DevToken{Subject: id.String(), Roles: []string{"customer"}, TTL: tokenTTL}, time.Now())
}

// keyring is the keyring of the development master key that the servers,
// in development mode, keep in the tokens' folder: the stores the
// benchmark makes in its own process seal and open personal data with it,
// as the servers do.
func (t *tokens) keyring(pool *pgxpool.Pool) (*personaldata.Keyring, error) {
	master, _, err := personaldata.OpenDevMasterKey(t.dir)
	if err != nil {
		return nil, err
	}
	return personaldata.NewKeyring(datakeys.New(pool), personaldata.NewMasterKeys(master)), nil
}

// env configures a server for the tokens, whatever the benchmark's own
// environment says of authentication and of the master key: development
// mode's, kept in the tokens' folder.
func (t *tokens) env() []string {
	return []string{
		"ORDERAPI_AUTH=dev", "ORDERAPI_AUTH_DEV_DIR=" + t.dir,
		"ORDERAPI_AUTH_JWKS_URL=", "ORDERAPI_AUTH_JWKS_FILE=", "ORDERAPI_AUTH_ISSUER=", "ORDERAPI_AUTH_AUDIENCE=",
		"ORDERAPI_AUTH_ROLES_CLAIM=", "ORDERAPI_AUTH_CUSTOMER_CLAIM=",
		"ORDERAPI_MASTER_KEY_FILE=", "ORDERAPI_MASTER_KEY_PREVIOUS_FILES=",
	}
}
