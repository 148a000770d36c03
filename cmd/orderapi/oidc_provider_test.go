package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// oidcDir holds the provider program, test/oidc/provider.js, and its
// locked npm dependencies.
const oidcDir = "../../test/oidc"

// oidcClient is a confidential client registered with the provider; its
// tokens carry Roles in their roles claim.
type oidcClient struct {
	ID     string   `json:"client_id"`
	Secret string   `json:"client_secret"`
	Roles  []string `json:"roles"`
}

// oidcProvider is a real OpenID Connect provider (oidc-provider under
// Node) on a loopback port, issuing client-credentials access tokens as
// JWTs addressed to one resource.
type oidcProvider struct {
	Issuer, JWKSURL, TokenURL string
	resource                  string
	dir, clients              string
	port                      int
	cmd                       *exec.Cmd
	stdin                     io.Closer
	stderr                    *lockedBuilder
	exited                    chan struct{}
}

// startOIDCProvider starts the provider with a fresh signing key; it is
// stopped when the test ends.
func startOIDCProvider(t *testing.T, resource string, clients ...oidcClient) *oidcProvider {
	t.Helper()
	node := oidcNode(t)
	p := &oidcProvider{resource: resource, dir: t.TempDir()}
	p.clients = filepath.Join(p.dir, "clients.json")
	writeJSON(t, p.clients, clients)
	p.start(t, node)
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("provider's stderr:\n%s", p.stderr)
		}
	})
	// The discovery document says where the keys and the token endpoint
	// are (OpenID Connect Discovery 1.0 §4).
	var disc struct {
		Issuer        string `json:"issuer"`
		JWKSURI       string `json:"jwks_uri"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	resp, err := http.Get(p.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if err != nil || disc.Issuer != p.Issuer || disc.JWKSURI == "" || disc.TokenEndpoint == "" {
		t.Fatalf("the provider's discovery document (%d): %+v, %v", resp.StatusCode, disc, err)
	}
	p.JWKSURL, p.TokenURL = disc.JWKSURI, disc.TokenEndpoint
	return p
}

// rotate replaces the provider's signing key: the provider restarts on
// the same port, so under the same issuer, publishing only a new key.
// Tokens signed with the old one stay valid to anyone who still trusts it.
func (p *oidcProvider) rotate(t *testing.T) {
	t.Helper()
	p.stop(t)
	p.start(t, oidcNode(t))
}

// start runs provider.js with a new signing key, on p.port (0 the first
// time: the provider picks one and says which).
func (p *oidcProvider) start(t *testing.T, node string) {
	t.Helper()
	keys := filepath.Join(p.dir, "keys-"+randomID(t)+".json")
	writeJSON(t, keys, signingKeySet(t))
	cmd := exec.Command(node, "provider.js",
		"--port", strconv.Itoa(p.port), "--keys", keys, "--clients", p.clients, "--resource", p.resource)
	cmd.Dir = oidcDir
	// The provider ends when its stdin closes, so it does not outlive this
	// process even if the test is killed before its cleanups run.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stderr = &lockedBuilder{}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the OIDC provider: %v", err)
	}
	p.cmd, p.stdin, p.exited = cmd, stdin, make(chan struct{})
	go func() { _ = cmd.Wait(); close(p.exited) }()

	started := make(chan struct {
		Issuer string `json:"issuer"`
		Port   int    `json:"port"`
	}, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			var line struct {
				Issuer string `json:"issuer"`
				Port   int    `json:"port"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil {
				started <- line
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-started:
		if p.Issuer != "" && line.Issuer != p.Issuer {
			t.Fatalf("the restarted provider's issuer is %s, was %s", line.Issuer, p.Issuer)
		}
		p.Issuer, p.port = line.Issuer, line.Port
	case <-p.exited:
		t.Fatalf("the OIDC provider exited at start (%v):\n%s", cmd.ProcessState, p.stderr)
	case <-time.After(15 * time.Second):
		t.Fatalf("the OIDC provider did not start within 15 s:\n%s", p.stderr)
	}
}

// stop ends the provider and waits until it has, so that its port is free.
func (p *oidcProvider) stop(t *testing.T) {
	t.Helper()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	_ = p.stdin.Close()
	p.cmd = nil
}

// token obtains an access token with the client-credentials grant,
// authenticating with HTTP Basic (client_secret_basic).
func (p *oidcProvider) token(t *testing.T, c oidcClient) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "resource": {p.resource}}
	req, err := http.NewRequest(http.MethodPost, p.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// RFC 6749 §2.3.1: both are form-encoded before Basic encoding.
	req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" || tok.TokenType != "Bearer" {
		t.Fatalf("token request for %s = %d %s", c.ID, resp.StatusCode, body)
	}
	return tok.AccessToken
}

// oidcNPM is the provider's program and its packages.
var oidcNPM = &npmProject{dir: oidcDir, pkg: "oidc-provider"}

// oidcNode returns the node program that runs the provider.
func oidcNode(t *testing.T) string {
	t.Helper()
	return oidcNPM.Node(t, "the OIDC provider runs on Node.js")
}

// signingKeySet is a private JSON Web Key Set of one new ES256 key.
func signingKeySet(t *testing.T) any {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := k.PublicKey.Bytes() // 0x04 || x || y
	if err != nil {
		t.Fatal(err)
	}
	d, err := k.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	return map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": randomID(t),
		"x": b64(pub[1:33]), "y": b64(pub[33:]), "d": b64(d),
	}}}
}

func randomID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", b)
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
