package asyncapitest_test

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/orderapi/orderapi/api"
	"github.com/orderapi/orderapi/api/asyncapitest"
	"github.com/orderapi/orderapi/internal/adapters/postgres/codec"
	"go.yaml.in/yaml/v3"
)

const placed = `{"specversion":"1.0","id":"0190d6c9-0000-7000-8000-0000000000e1","source":"/orderapi",
"type":"dev.orderapi.order.placed.v1","subject":"0190d6c9-0000-7000-8000-000000000001",
"time":"2026-11-25T12:00:00.000005Z","datacontenttype":"application/json",
"data":{"order_id":"0190d6c9-0000-7000-8000-000000000001","total_amount":"19.99",
"shipping_address":{"name":"A. Lovelace","line1":"1 Main St","city":"London","postal_code":"N1","country":"GB"}},
"orderapiposition":"42","orderapitxid":"900","orderapiversion":3,"correlationid":"corr-1"}`

func load(t *testing.T) *asyncapitest.Document {
	t.Helper()
	d, err := asyncapitest.Load()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCheckAdmitsAMessageOfTheContract(t *testing.T) {
	t.Parallel()
	// Given the document and a message as the contract describes it
	d := load(t)
	// When it is checked, body and headers
	err := d.Check("OrderPlaced", []byte(placed))
	herr := d.CheckHeaders("OrderPlaced", map[string]string{
		"Nats-Msg-Id": "0190d6c9-0000-7000-8000-0000000000e1", "Content-Type": "application/cloudevents+json",
		"Nats-Expected-Last-Msg-Id": "0190d6c9-0000-7000-8000-0000000000e0",
		"traceparent":               "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	})
	// Then both pass
	if err != nil || herr != nil {
		t.Fatalf("Check: %v; CheckHeaders: %v", err, herr)
	}
	asyncapitest.Validate(t, "OrderPlaced", []byte(placed))
}

// erasedPlaced is placed as published after its customer's erasure.
var erasedPlaced = strings.Replace(strings.Replace(placed,
	`{"name":"A. Lovelace","line1":"1 Main St","city":"London","postal_code":"N1","country":"GB"}`, `null`, 1),
	`"orderapiversion":3`, `"orderapiversion":3,"orderapierased":true`, 1)

func TestCheckAdmitsAnErasedMessage(t *testing.T) {
	t.Parallel()
	// Given the document and a message published after its customer's
	// erasure: its personal members null, marked erased
	d := load(t)
	if erasedPlaced == placed || !strings.Contains(erasedPlaced, `"shipping_address":null`) {
		t.Fatalf("no erased message made of %s", placed)
	}
	// When it is checked, then it passes
	if err := d.Check("OrderPlaced", []byte(erasedPlaced)); err != nil {
		t.Fatal(err)
	}
}

// sealedPlaced is placed as published with personal data sealed.
var sealedPlaced = strings.Replace(strings.Replace(placed,
	`{"name":"A. Lovelace","line1":"1 Main St","city":"London","postal_code":"N1","country":"GB"}`,
	`"0190d6c9-0000-7000-8000-0000000000d1.QmVjYXVzZSBpdCBpcyBzZWFsZWQsIG5vdCBpbiBjbGVhcg"`, 1),
	`"orderapiversion":3`, `"orderapiversion":3,"orderapipersonaldata":"sealed"`, 1)

func TestCheckAdmitsASealedMessage(t *testing.T) {
	t.Parallel()
	// Given the document and a message whose personal data is sealed, and
	// the same after its customer's erasure
	d := load(t)
	erased := strings.Replace(sealedPlaced, `"orderapiversion":3`, `"orderapiversion":3,"orderapierased":true`, 1)
	for _, body := range []string{sealedPlaced, erased} {
		// When it is checked, then it passes
		if err := d.Check("OrderPlaced", []byte(body)); err != nil {
			t.Errorf("%v\nbody: %s", err, body)
		}
	}
}

func TestCheckRefusesPersonalDataInAnotherFormThanItSays(t *testing.T) {
	t.Parallel()
	d := load(t)
	for name, body := range map[string]string{
		"sealed text, unmarked":   strings.Replace(sealedPlaced, `,"orderapipersonaldata":"sealed"`, ``, 1),
		"in clear, marked sealed": strings.Replace(placed, `"orderapiversion":3`, `"orderapiversion":3,"orderapipersonaldata":"sealed"`, 1),
		"null, marked sealed":     strings.Replace(erasedPlaced, `"orderapiversion":3`, `"orderapiversion":3,"orderapipersonaldata":"sealed"`, 1),
		"marked otherwise":        strings.Replace(sealedPlaced, `"orderapipersonaldata":"sealed"`, `"orderapipersonaldata":"clear"`, 1),
		"text that is not sealed": strings.Replace(sealedPlaced, `"0190d6c9-0000-7000-8000-0000000000d1.`, `"A. Lovelace, `, 1),
	} {
		// Given such a message, when it is checked, then it is refused
		if body == sealedPlaced || body == placed || body == erasedPlaced {
			t.Fatalf("%s: nothing changed", name)
		}
		if err := d.Check("OrderPlaced", []byte(body)); err == nil {
			t.Errorf("%s: admitted %s", name, body)
		}
	}
}

// TestSealedDataSchemasAreTheClearOnesButForPersonalData: each data
// schema with personal data sealed is its data schema, member for member
// (but for their descriptions), but that each personal member is sealed
// text.
func TestSealedDataSchemasAreTheClearOnesButForPersonalData(t *testing.T) {
	t.Parallel()
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(api.AsyncAPI, &doc); err != nil {
		t.Fatal(err)
	}
	current := map[string]int{}
	for _, sc := range codec.New(codec.Config{}).Schemas() {
		current[sc.EventType] = max(current[sc.EventType], sc.Version)
	}
	schemas := doc.Components.Schemas
	for eventType, v := range current {
		personal := codec.PersonalFields(eventType, v)
		sealed, ok := schemas[eventType+"SealedData"]
		if ok != (len(personal) > 0) {
			t.Errorf("%s has personal data %v, and a sealed data schema: %t", eventType, personal, ok)
			continue
		}
		if !ok {
			continue
		}
		clear := schemas[eventType+"Data"]
		sealedProps, _ := sealed["properties"].(map[string]any)
		clearProps, _ := clear["properties"].(map[string]any)
		for name, p := range clearProps {
			want := withoutDescriptions(p)
			if slices.Contains(personal, name) {
				want = map[string]any{"$ref": "#/components/schemas/SealedText"}
			}
			if got := withoutDescriptions(sealedProps[name]); !reflect.DeepEqual(got, want) {
				t.Errorf("%sSealedData's %s is %v, want %v", eventType, name, got, want)
			}
		}
		if len(sealedProps) != len(clearProps) || !reflect.DeepEqual(sealed["required"], clear["required"]) || sealed["type"] != clear["type"] {
			t.Errorf("%sSealedData %v is not %sData %v", eventType, sealed, eventType, clear)
		}
	}
}

func withoutDescriptions(v any) any {
	if m, ok := v.(map[string]any); ok {
		out := make(map[string]any, len(m))
		for k, e := range m {
			if k != "description" {
				out[k] = withoutDescriptions(e)
			}
		}
		return out
	}
	return v
}

// erasedMessages are a message of each event type with personal data, as
// published after its customer's erasure: its personal members null.
var erasedMessages = map[string]string{
	"OrderPlaced": erasedPlaced,
	"OrderDelivered": `{"specversion":"1.0","id":"0190d6c9-0000-7000-8000-0000000000e2","source":"/orderapi",
"type":"dev.orderapi.order.delivered.v1","subject":"0190d6c9-0000-7000-8000-000000000001",
"time":"2026-11-26T10:00:00.000000Z","datacontenttype":"application/json",
"data":{"order_id":"0190d6c9-0000-7000-8000-000000000001","delivered_at":"2026-11-26T09:59:59.5Z","signature":null},
"orderapiposition":"44","orderapitxid":"902","orderapiversion":5,"orderapierased":true}`,
	"OrderCancelled": `{"specversion":"1.0","id":"0190d6c9-0000-7000-8000-0000000000e3","source":"/orderapi",
"type":"dev.orderapi.order.cancelled.v2","subject":"0190d6c9-0000-7000-8000-000000000003",
"time":"2026-11-26T11:00:00.000000Z","datacontenttype":"application/json",
"data":{"order_id":"0190d6c9-0000-7000-8000-000000000003","reason":null,"cancelled_by":"staff:lin","cancelled_by_verified":true},
"orderapiposition":"45","orderapitxid":"903","orderapiversion":2,"orderapierased":true}`,
}

// TestDraft07AdmitsNullOnlyInAnErasedPersonalMember reads erased messages
// as JSON Schema draft 07 does, as AsyncAPI tools do: a null personal
// member is a message of the document, a null anywhere else in its data
// is not, nor is a number in the personal member's place.
func TestDraft07AdmitsNullOnlyInAnErasedPersonalMember(t *testing.T) {
	t.Parallel()
	d := load(t)
	for eventType, body := range erasedMessages {
		// Given a message published after its customer's erasure
		var msg map[string]any
		if err := json.Unmarshal([]byte(body), &msg); err != nil {
			t.Fatalf("%s: %v", eventType, err)
		}
		data := msg["data"].(map[string]any)
		nulls := 0
		// When it is checked, then it passes
		if err := d.Check(eventType, []byte(body)); err != nil {
			t.Errorf("%v\nbody: %s", err, body)
		}
		for name, v := range data {
			// And when one member of its data is changed, a null one to a
			// number and any other to null
			changed := maps.Clone(data)
			if v == nil {
				nulls++
				changed[name] = 7
			} else {
				changed[name] = nil
			}
			m := maps.Clone(msg)
			m["data"] = changed
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			// Then it is refused
			if err := d.Check(eventType, b); err == nil {
				t.Errorf("%s: admitted %s", eventType, b)
			}
		}
		if nulls != 1 {
			t.Errorf("%s: %d null members in %s", eventType, nulls, body)
		}
	}
}

// TestParseRefusesWhatDraft07DoesNotRead: a schema in OpenAPI's words
// (`nullable`, which draft 07 ignores, so that its tools would refuse
// the null it means to allow), or one that is no draft 07 schema, is
// refused.
func TestParseRefusesWhatDraft07DoesNotRead(t *testing.T) {
	t.Parallel()
	nullable := "type: [string, 'null']"
	if !strings.Contains(string(api.AsyncAPI), nullable) {
		t.Fatalf("api/asyncapi.yaml has no %s", nullable)
	}
	if _, err := asyncapitest.Parse(api.AsyncAPI); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ new, says string }{
		"OpenAPI's nullable":      {"type: string\n          nullable: true", `"nullable" is no keyword`},
		"OpenAPI's example":       {nullable + "\n          example: A. Lovelace", `"example" is no keyword`},
		"a type draft 07 has not": {"type: [string, 'nil']", "OrderDeliveredData"},
	} {
		// Given the document with a member changed so
		doc := strings.Replace(string(api.AsyncAPI), nullable, c.new, 1)
		// When it is parsed
		_, err := asyncapitest.Parse([]byte(doc))
		// Then it is refused, saying why
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: Parse = %v, want an error saying %s", name, err, c.says)
		}
	}
}

func TestCheckRefusesAnErasedMarkerOtherThanTrue(t *testing.T) {
	t.Parallel()
	d := load(t)
	for _, marker := range []string{`false`, `"true"`, `1`, `null`} {
		// Given an erased message whose marker is not true
		body := strings.Replace(erasedPlaced, `"orderapierased":true`, `"orderapierased":`+marker, 1)
		// When it is checked, then it is refused
		if err := d.Check("OrderPlaced", []byte(body)); err == nil {
			t.Errorf("admitted orderapierased %s", marker)
		}
	}
}

func TestCheckRefuses(t *testing.T) {
	t.Parallel()
	d := load(t)
	for _, c := range []struct {
		name      string
		eventType string
		old, new  string
	}{
		{"another type's message", "OrderShipped", "", ""},
		{"an event type with no message", "OrderLost", "", ""},
		{"a missing attribute", "OrderPlaced", `"orderapitxid":"900",`, ``},
		{"an undocumented attribute", "OrderPlaced", `"correlationid"`, `"requestid":"r","correlationid"`},
		{"an empty optional attribute", "OrderPlaced", `"corr-1"`, `""`},
		{"another spec version", "OrderPlaced", `"1.0"`, `"0.3"`},
		{"another schema version", "OrderPlaced", `placed.v1`, `placed.v2`},
		{"an upper-case id", "OrderPlaced", `"0190d6c9-0000-7000-8000-0000000000e1"`, `"0190D6C9-0000-7000-8000-0000000000E1"`},
		{"a time that is no RFC 3339", "OrderPlaced", `2026-11-25T12:00:00.000005Z`, `2026-11-25 12:00:00`},
		{"a position as a number", "OrderPlaced", `"42"`, `42`},
		{"a version as text", "OrderPlaced", `"orderapiversion":3`, `"orderapiversion":"3"`},
		{"money as a number", "OrderPlaced", `"19.99"`, `19.99`},
		{"data without a required field", "OrderPlaced", `"total_amount":"19.99",`, ``},
		{"an address without its country", "OrderPlaced", `,"country":"GB"`, ``},
		{"a null address line", "OrderPlaced", `"A. Lovelace"`, `null`},
		{"a null amount", "OrderPlaced", `"19.99"`, `null`},
		{"an address as a number", "OrderPlaced",
			`{"name":"A. Lovelace","line1":"1 Main St","city":"London","postal_code":"N1","country":"GB"}`, `7`},
		{"not JSON", "OrderPlaced", `{"specversion"`, `{specversion`},
		{"a traceparent of an unsampled trace", "OrderPlaced", `"correlationid"`,
			`"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00","correlationid"`},
		{"a traceparent of another version", "OrderPlaced", `"correlationid"`,
			`"traceparent":"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","correlationid"`},
		{"an empty traceparent", "OrderPlaced", `"correlationid"`, `"traceparent":"","correlationid"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// Given a message changed from one of the contract
			body := placed
			if c.old != "" {
				if !strings.Contains(body, c.old) {
					t.Fatalf("the message has no %s", c.old)
				}
				body = strings.Replace(body, c.old, c.new, 1)
			}
			// When it is checked as a message of the event type
			err := d.Check(c.eventType, []byte(body))
			// Then it is refused
			if err == nil {
				t.Errorf("admitted as %s: %s", c.eventType, body)
			}
		})
	}
}

func TestCheckHeadersRefuses(t *testing.T) {
	t.Parallel()
	d := load(t)
	for name, h := range map[string]map[string]string{
		"no message id":      {"Content-Type": "application/cloudevents+json"},
		"a message id no id": {"Nats-Msg-Id": "42", "Content-Type": "application/cloudevents+json"},
		"no content type":    {"Nats-Msg-Id": "0190d6c9-0000-7000-8000-0000000000e1"},
		"binary mode":        {"Nats-Msg-Id": "0190d6c9-0000-7000-8000-0000000000e1", "Content-Type": "application/json"},
		"a traceparent no trace's": {"Nats-Msg-Id": "0190d6c9-0000-7000-8000-0000000000e1", "Content-Type": "application/cloudevents+json",
			"traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-0x"},
	} {
		// Given headers that are not the contract's, when checked, then refused
		if err := d.CheckHeaders("OrderPlaced", h); err == nil {
			t.Errorf("%s: admitted %v", name, h)
		}
	}
}

// TestDataSchemasAreTheEventsAPIs keeps each event type's data schema, and
// the schemas it uses, those of api/openapi.yaml: a consumer of the broker
// reads what a client of GET /v1/events reads. Each OpenAPI schema is
// compared in the words of JSON Schema draft 07: examples, which
// AsyncAPI's schemas do not have, left out, and OpenAPI's `nullable`
// said as draft 07 says it.
func TestDataSchemasAreTheEventsAPIs(t *testing.T) {
	t.Parallel()
	// Given both documents' schemas
	schemas := func(doc []byte) map[string]any {
		var d struct {
			Components struct {
				Schemas map[string]any `yaml:"schemas"`
			} `yaml:"components"`
		}
		if err := yaml.Unmarshal(doc, &d); err != nil {
			t.Fatal(err)
		}
		return d.Components.Schemas
	}
	async, open := schemas(api.AsyncAPI), schemas(api.OpenAPI)
	d := load(t)
	// When every data schema is followed through its references
	names := map[string]bool{}
	var follow func(v any)
	follow = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["$ref"].(string); ok {
				name := strings.TrimPrefix(r, "#/components/schemas/")
				if !names[name] {
					names[name] = true
					follow(open[name])
				}
			}
			for _, k := range slices.Sorted(maps.Keys(v)) {
				follow(v[k])
			}
		case []any:
			for _, e := range v {
				follow(e)
			}
		}
	}
	for _, eventType := range d.EventTypes() {
		names[eventType+"Data"] = true
		follow(open[eventType+"Data"])
	}
	// Then each is in the AsyncAPI document as in the OpenAPI one
	for name := range names {
		want := asDraft07(open[name])
		if want == nil {
			t.Errorf("api/openapi.yaml has no schema %s", name)
			continue
		}
		if got := async[name]; !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Errorf("schema %s\n asyncapi.yaml %s\n  openapi.yaml %s", name, g, w)
		}
	}
}

// asDraft07 is an OpenAPI 3.0 schema as JSON Schema draft 07 says it: no
// `example`; a nullable string a string or null; a nullable object of a
// referenced schema one of that schema or null. Another nullable schema
// keeps its `nullable`, which no AsyncAPI schema may have.
func asDraft07(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			if k != "example" {
				out[k] = asDraft07(e)
			}
		}
		if out["nullable"] != true {
			return out
		}
		allOf, _ := out["allOf"].([]any)
		rest := maps.Clone(out)
		for _, k := range []string{"nullable", "type", "allOf", "description"} {
			delete(rest, k)
		}
		switch {
		case len(rest) > 0:
		case out["type"] == "string" && allOf == nil:
			delete(out, "nullable")
			out["type"] = []any{"string", "null"}
		case out["type"] == "object" && len(allOf) == 1:
			for _, k := range []string{"nullable", "type", "allOf"} {
				delete(out, k)
			}
			out["oneOf"] = []any{allOf[0], map[string]any{"type": "null"}}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = asDraft07(e)
		}
		return out
	}
	return v
}

// TestExamplesAreMessagesOfTheirType holds the document's examples, which
// consumers copy from, to its own schemas: each message has one.
func TestExamplesAreMessagesOfTheirType(t *testing.T) {
	t.Parallel()
	// Given the examples of every message
	d := load(t)
	for name, m := range examples(t) {
		if len(m.Examples) == 0 {
			t.Errorf("message %s has no example", name)
		}
		for _, ex := range m.Examples {
			// When each is checked as a message of its type, then it passes
			body, err := json.Marshal(ex.Payload)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Check(name, body); err != nil {
				t.Errorf("example: %v", err)
			}
			if err := d.CheckHeaders(name, ex.Headers); err != nil {
				t.Errorf("example: %v", err)
			}
		}
	}
}

func TestCheckRefusesAQuantityBeyondInt64(t *testing.T) {
	t.Parallel()
	// Given the document's example of OrderItemAdded
	example, err := json.Marshal(examples(t)["OrderItemAdded"].Examples[0].Payload)
	if err != nil || !strings.Contains(string(example), `"quantity":1,`) {
		t.Fatalf("example %s, %v", example, err)
	}
	d := load(t)
	for quantity, admitted := range map[string]bool{"9223372036854775807": true, "9223372036854775808": false, "1e30": false} {
		// When its quantity is that number
		body := strings.Replace(string(example), `"quantity":1,`, `"quantity":`+quantity+`,`, 1)
		err := d.Check("OrderItemAdded", []byte(body))
		// Then it is admitted only within int64
		if (err == nil) != admitted {
			t.Errorf("quantity %s: admitted %t, want %t (%v)", quantity, err == nil, admitted, err)
		}
	}
}

// messageExamples are a message's examples in the document.
type messageExamples struct {
	Examples []struct {
		Headers map[string]string `yaml:"headers"`
		Payload any               `yaml:"payload"`
	} `yaml:"examples"`
}

// examples reads the document's examples, by message.
func examples(t *testing.T) map[string]messageExamples {
	t.Helper()
	var doc struct {
		Components struct {
			Messages map[string]messageExamples `yaml:"messages"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(api.AsyncAPI, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Components.Messages
}
