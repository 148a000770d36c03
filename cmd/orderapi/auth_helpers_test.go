package main

import (
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderapi/orderapi/internal/adapters/jwtauth"
)

// testDevKey is the development key of every service these tests start,
// each from a folder of its own test: made once, so that one token works
// against them all.
var testDevKey = sync.OnceValue(func() *jwtauth.DevKey {
	k, err := jwtauth.NewDevKey()
	if err != nil {
		panic(err)
	}
	return k
})

// devAuth adds to vars the configuration of development authentication
// with testDevKey, kept in a folder of t's, and testMasterKey's file
// (withMasterKey).
func devAuth(t testing.TB, vars map[string]string) map[string]string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "orderapi-dev")
	if err := testDevKey().Save(dir); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{"ORDERAPI_AUTH": "dev", "ORDERAPI_AUTH_DEV_DIR": dir}
	for k, v := range withMasterKey(t, vars) {
		out[k] = v
	}
	return out
}

// devAuthEnv is devAuth for a process's environment.
func devAuthEnv(t testing.TB) []string {
	t.Helper()
	var env []string
	for k, v := range devAuth(t, nil) {
		env = append(env, k+"="+v)
	}
	return env
}

// operatorToken is a token of testDevKey granting staff and service:
// what these tests, which exercise the binary rather than authorization,
// call the API with.
var operatorToken = sync.OnceValue(func() string {
	tok, err := testDevKey().Mint(jwtauth.DevToken{Subject: "test-operator", Roles: []string{"staff", "service"}, TTL: 24 * time.Hour}, time.Now())
	if err != nil {
		panic(err)
	}
	return tok
})

// bearer sends token (operatorToken if "") with every request, over
// transport (the default one if nil).
type bearer struct {
	transport http.RoundTripper
	token     string
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	token := b.token
	if token == "" {
		token = operatorToken()
	}
	r.Header.Set("Authorization", "Bearer "+token)
	t := b.transport
	if t == nil {
		t = http.DefaultTransport
	}
	return t.RoundTrip(r)
}

// authed is http.DefaultClient, authenticated as operatorToken.
var authed = &http.Client{Transport: bearer{}}

// staffTokenOf is a token of testDevKey for a member of staff with the
// given subject.
func staffTokenOf(t testing.TB, subject string) string {
	t.Helper()
	tok, err := testDevKey().Mint(jwtauth.DevToken{Subject: subject, Roles: []string{"staff"}, TTL: time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// customerTokenOf is a token of testDevKey for the customer.
func customerTokenOf(t testing.TB, customer uuid.UUID) string {
	t.Helper()
	tok, err := testDevKey().Mint(jwtauth.DevToken{Subject: customer.String(), Roles: []string{"customer"}, TTL: time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// send sends a request with a JSON body (none if empty) and fails the
// test unless the answer has one of the statuses; it returns the body.
func send(t *testing.T, c *http.Client, method, url, body string, statuses ...int) []byte {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(statuses, resp.StatusCode) {
		t.Fatalf("%s %s = %d, want %v: %s", method, url, resp.StatusCode, statuses, got)
	}
	return got
}
