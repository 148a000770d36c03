package jwtauth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/secretfile"
	"github.com/orderapi/orderapi/internal/app"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// Development mode: orderapi accepts the tokens of a key of its own, kept
// in a folder, that `orderapi token` signs with. It is made on first use
// and reused afterwards.
const (
	// DevIssuer and DevAudience are the iss and aud of development
	// tokens.
	DevIssuer   = "orderapi-dev"
	DevAudience = "orderapi"
	// DevKeyFile is the private key's file in the folder: PKCS #8, PEM.
	DevKeyFile = "signing-key.pem"
)

// DevKey is the development signing key, Ed25519.
type DevKey struct {
	key ed25519.PrivateKey
	kid string
}

// NewDevKey makes a new development key.
func NewDevKey() (*DevKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return devKey(key), nil
}

func devKey(key ed25519.PrivateKey) *DevKey {
	return &DevKey{key: key, kid: thumbprint(key.Public().(ed25519.PublicKey))}
}

// thumbprint is the key's RFC 7638 JWK thumbprint, its kid: the same key
// always has the same kid.
func thumbprint(pub ed25519.PublicKey) string {
	// The required members, in lexicographic order, without spaces.
	canonical := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// OpenDevKey loads the development key kept in dir, or makes one and
// keeps it there (dir made with mode 0700, the file 0600) when there is
// none; created says which.
func OpenDevKey(dir string) (k *DevKey, created bool, err error) {
	k, err = LoadDevKey(dir)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	if k, err = NewDevKey(); err != nil {
		return nil, false, err
	}
	err = k.Save(dir)
	if errors.Is(err, fs.ErrExist) {
		// Another process made one first: use it.
		k, err = LoadDevKey(dir)
		return k, false, err
	}
	if err != nil {
		return nil, false, err
	}
	return k, true, nil
}

// LoadDevKey reads the development key kept in dir; the error wraps
// fs.ErrNotExist when there is none. It refuses, as ssh does, a folder
// others may write to (they could put a key of their own there) and a key
// others may read (they could sign tokens with it).
func LoadDevKey(dir string) (*DevKey, error) {
	path := filepath.Join(dir, DevKeyFile)
	b, err := secretfile.Read(path, "development signing key")
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("development signing key %s: not a PEM private key", path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("development signing key %s: %w", path, err)
	}
	key, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("development signing key %s: a %T, not Ed25519", path, parsed)
	}
	return devKey(key), nil
}

// Save keeps the key in dir, never replacing one there: the error wraps
// fs.ErrExist if dir holds a key already.
func (k *DevKey) Save(dir string) error {
	der, err := x509.MarshalPKCS8PrivateKey(k.key)
	if err != nil {
		return err
	}
	return secretfile.WriteNew(dir, DevKeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// KID is the key's id, as tokens and the JWKS name it.
func (k *DevKey) KID() string { return k.kid }

// JWKS is the key set of the key's public half.
func (k *DevKey) JWKS() []byte {
	b, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "OKP",
		"crv": "Ed25519",
		"x":   base64.RawURLEncoding.EncodeToString(k.key.Public().(ed25519.PublicKey)),
		"kid": k.kid,
		"alg": jwt.SigningMethodEdDSA.Alg(),
		"use": "sig",
	}}})
	return b
}

// DevToken is what a development token says.
type DevToken struct {
	// Subject is the sub claim; a customer's id when Roles holds
	// "customer".
	Subject string
	// Roles are role names: customer, staff, service.
	Roles []string
	// ClientID, if set, is the client_id claim.
	ClientID string
	// TTL is how long the token is valid.
	TTL time.Duration
	// RolesClaim and CustomerClaim name the claims a Verifier reads;
	// DefaultRolesClaim and DefaultCustomerClaim if empty.
	RolesClaim, CustomerClaim string
}

// MaxDevTTL bounds a development token's lifetime: a token copied into
// a shell history, a script or a browser tab should not stay good for
// long.
const MaxDevTTL = 24 * time.Hour

// DevTokenError is a DevToken that Mint refuses to sign, because a
// Verifier would refuse the token or it would outlive MaxDevTTL.
type DevTokenError struct {
	// Field is the DevToken's field at fault: "Subject", "Roles",
	// "ClientID" or "TTL".
	Field  string
	Reason string
}

func (e *DevTokenError) Error() string { return e.Reason }

func refuse(field, format string, args ...any) error {
	return &DevTokenError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Mint signs a development token valid from now for t.TTL. It refuses,
// with a *DevTokenError, what a Verifier would refuse (no role, an
// unknown role name, a subject history could not record, a customer
// whose subject is not a UUID in lower case) and a lifetime over
// MaxDevTTL.
func (k *DevKey) Mint(t DevToken, now time.Time) (string, error) {
	switch {
	case t.TTL <= 0:
		return "", refuse("TTL", "a token's lifetime must be positive")
	case t.TTL > MaxDevTTL:
		return "", refuse("TTL", "a token's lifetime is at most %s, not %s", MaxDevTTL, t.TTL)
	case len(t.Roles) == 0:
		return "", refuse("Roles", "a token needs at least one role (customer, staff or service)")
	}
	var rs app.Roles
	for _, name := range t.Roles {
		r, ok := app.ParseRole(name)
		if !ok {
			return "", refuse("Roles", "unknown role %q (want customer, staff or service)", name)
		}
		rs = rs.With(r)
	}
	if t.Subject == "" {
		return "", refuse("Subject", "a token needs a subject")
	}
	if app.CheckName("sub", t.Subject) != nil {
		return "", refuse("Subject", "a token's subject must be printable text, not blank (white space and invisible characters alone), of at most %d characters", order.MaxActorLen)
	}
	if t.ClientID != "" && app.CheckName("client_id", t.ClientID) != nil {
		return "", refuse("ClientID", "a token's client id must be printable text, not blank (white space and invisible characters alone), of at most %d characters", order.MaxActorLen)
	}
	if t.RolesClaim == "" {
		t.RolesClaim = DefaultRolesClaim
	}
	if t.CustomerClaim == "" {
		t.CustomerClaim = DefaultCustomerClaim
	}
	claims := jwt.MapClaims{
		"iss":        DevIssuer,
		"aud":        DevAudience,
		"sub":        t.Subject,
		"iat":        now.Unix(),
		"nbf":        now.Unix(),
		"exp":        now.Add(t.TTL).Unix(),
		"jti":        uuid.NewString(),
		t.RolesClaim: append([]string{}, rs.Names()...),
	}
	if rs.Has(app.RoleCustomer) {
		if _, ok := customerID(t.Subject); !ok {
			return "", refuse("Subject", "a customer's subject must be its id, a UUID in lower case: %q is not one", t.Subject)
		}
		claims[t.CustomerClaim] = t.Subject
	}
	if t.ClientID != "" {
		claims["client_id"] = t.ClientID
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = k.kid
	return tok.SignedString(k.key)
}
