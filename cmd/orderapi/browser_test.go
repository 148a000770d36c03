package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/orderapi/orderapi/api"
	"github.com/orderapi/orderapi/internal/adapters/postgres/pgtest"
)

// browserDir holds the browser tests' scripts, their harness and their
// locked npm packages (playwright-core, which downloads no browser).
const browserDir = "../../test/browser"

var browserNPM = &npmProject{dir: browserDir, pkg: "playwright-core"}

// TestDocsInABrowser opens the API reference at /docs of a real service
// in Debian's Chromium: it renders every operation of api/openapi.yaml,
// and a member of staff authorizes with a token and creates orders with
// "Try it out"; nothing on the page fails, nothing leaves for another
// origin. Screenshots land in test/browser/artifacts/.
func TestDocsInABrowser(t *testing.T) {
	t.Parallel()
	node := browserNode(t)
	// Given the service, in development mode, on a database of its own
	addr, _ := startServerWith(t, pgtest.NewURL(t), nil, io.Discard)
	base := "http://" + addr
	// and a development token of a member of staff
	const subject = "docs-browser"
	token := staffTokenOf(t, subject)

	// When the page is driven as a developer would
	runBrowserScript(t, node, "docs.mjs", base, map[string]string{
		"EXPECT_OPERATIONS": string(mustJSON(t, specOperations(t))),
		"TOKEN":             token,
	})

	// Then the service holds the two orders the page created, by that
	// member of staff
	resp, err := authed.Get(base + "/v1/events?limit=100")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var feed eventsByActor
	if err := json.NewDecoder(resp.Body).Decode(&feed); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/events = %d: %v", resp.StatusCode, err)
	}
	created := 0
	for _, e := range feed.Events {
		if e.Type == "OrderCreated" && e.Metadata.Actor == subject {
			created++
		}
	}
	if created != 2 || len(feed.Events) != 2 {
		t.Errorf("the feed holds %d events, %d orders created by %s; want the 2 the page created", len(feed.Events), created, subject)
	}
}

// TestConsoleInABrowser opens the console at /console of a real service
// in Debian's Chromium. A customer signs in with a pasted token, finds
// their order (made here over HTTP: two items added, one removed, placed)
// and sees each of its events on the timeline, and the order as it was at
// an earlier step; a member of staff signs in with the development role
// picker, and sees the order shipped, while the page is open, arrive on
// its timeline and in the live feed, and the customer's erasure take the
// address off the page. Nothing on the page fails, nothing leaves for
// another origin. Screenshots land in test/browser/artifacts/.
func TestConsoleInABrowser(t *testing.T) {
	t.Parallel()
	node := browserNode(t)
	// Given the service, in development mode, on a database of its own
	addr, _ := startServerWith(t, pgtest.NewURL(t), nil, io.Discard)
	base := "http://" + addr
	// and a customer's placed order, with an item added and removed on
	// the way
	customer := uuid.New()
	customerToken := customerTokenOf(t, customer)
	as := &http.Client{Transport: bearer{token: customerToken}}
	order := uuid.NewString()
	for _, step := range []struct{ method, path, body string }{
		{"POST", "/v1/orders", `{"id": "` + order + `", "customer_id": "` + customer.String() + `"}`},
		{"POST", "/v1/orders/" + order + "/items", `{"product_id": "3f1c2a9e-8b7d-4c6e-9a51-2d4f6b8e0c13", "product_name": "Espresso cup", "quantity": 3, "unit_price": "19.99"}`},
		{"POST", "/v1/orders/" + order + "/items", `{"product_id": "b2e4f6a8-1c3d-4e5f-8a9b-0c1d2e3f4a5b", "product_name": "Saucer", "quantity": 1, "unit_price": "4.50"}`},
		{"DELETE", "/v1/orders/" + order + "/items/b2e4f6a8-1c3d-4e5f-8a9b-0c1d2e3f4a5b", ""},
		{"POST", "/v1/orders/" + order + "/place", `{"shipping_address": {"name": "Ada Lovelace", "line1": "12 St James Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB"}}`},
	} {
		send(t, as, step.method, base+step.path, step.body, http.StatusOK, http.StatusCreated)
	}

	// When the page is driven by the customer, then by a member of staff,
	// who ships the order meanwhile, then erases the customer
	runBrowserScript(t, node, "console.mjs", base, map[string]string{
		"ORDER_ID":       order,
		"CUSTOMER_ID":    customer.String(),
		"CUSTOMER_TOKEN": customerToken,
		"STAFF_TOKEN":    staffTokenOf(t, "console-shipper"),
	})

	// Then the service holds the order shipped, by that member of staff,
	// and nothing else the page did changed it
	var history eventsByActor
	if err := json.Unmarshal(send(t, authed, "GET", base+"/v1/orders/"+order+"/events", "", http.StatusOK), &history); err != nil {
		t.Fatal(err)
	}
	if n := len(history.Events); n != 6 || history.Events[5].Type != "OrderShipped" || history.Events[5].Metadata.Actor != "console-shipper" {
		t.Errorf("the order's history: %+v; want its five events and the shipment", history.Events)
	}
}

// eventsByActor is a page of events (the feed's, an order's history):
// each one's type and who did it.
type eventsByActor struct {
	Events []struct {
		Type     string `json:"type"`
		Metadata struct {
			Actor string `json:"actor"`
		} `json:"metadata"`
	} `json:"events"`
}

// specOperations lists every operation of api/openapi.yaml as "METHOD
// path", sorted.
func specOperations(t *testing.T) []string {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, method+" "+path)
		}
	}
	slices.Sort(ops)
	return ops
}

// runBrowserScript runs test/browser/<script> against base with env set,
// and fails the test with its output if it fails.
func runBrowserScript(t *testing.T, node, script, base string, env map[string]string) {
	t.Helper()
	artifacts, err := filepath.Abs(filepath.Join(browserDir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, base, artifacts)
	cmd.Dir = browserDir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, out)
	}
	t.Logf("node %s:\n%s", script, out)
}

// browserNode returns node once the browser tests can run: Node.js 20 or
// later with test/browser's packages, and Chromium. Without them the test
// skips, saying what to install, except under CI, where nothing may skip.
func browserNode(t *testing.T) string {
	t.Helper()
	const needs = "the browser tests drive Chromium from Node.js 20 or later"
	node := browserNPM.Node(t, needs)
	missing := func(what string, err error) {
		t.Helper()
		if os.Getenv("CI") != "true" {
			t.Skipf("%s: %s", what, err)
		}
		t.Fatalf("%s: %s", what, err)
	}
	out, err := exec.Command(node, "-p", "process.versions.node").Output()
	major, _, _ := strings.Cut(strings.TrimSpace(string(out)), ".")
	if n, convErr := strconv.Atoi(major); err != nil || convErr != nil || n < 20 {
		missing(needs, errors.New("node "+strings.TrimSpace(string(out))+" is older; playwright-core needs 20"))
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		missing("Chromium is not installed (apt-get install chromium)", err)
	}
	return node
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
