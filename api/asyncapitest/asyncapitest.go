// Package asyncapitest holds broker messages to api/asyncapi.yaml: a
// message's body must match the payload schema of its event type's
// message and its headers the headers schema. Tests use it on encoded
// messages and on messages read back from the broker alike.
//
// The document's schemas are in AsyncAPI's default schema format, a
// superset of JSON Schema draft 07, and are read as draft 07 reads them,
// as AsyncAPI tools and code generators do: $refs resolved, values
// validated (types, patterns, formats, required, additionalProperties,
// allOf, oneOf). A keyword draft 07 does not define, such as OpenAPI's
// `nullable`, would mean nothing to those tools, so Load refuses it.
package asyncapitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/orderapi/orderapi/api"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// Document is api/asyncapi.yaml's messages, by event type.
type Document struct {
	messages map[string]message
}

type message struct {
	payload, headers *jsonschema.Schema
	// cloudEventType is the one CloudEvents type the payload admits.
	cloudEventType string
}

// the parts of the AsyncAPI document Load reads.
type document struct {
	Channels map[string]struct {
		Messages map[string]ref `yaml:"messages"`
	} `yaml:"channels"`
	Operations map[string]struct {
		Messages []ref `yaml:"messages"`
	} `yaml:"operations"`
	Components struct {
		Messages map[string]struct {
			Name         string `yaml:"name"`
			ContentType  string `yaml:"contentType"`
			Headers      ref    `yaml:"headers"`
			Payload      ref    `yaml:"payload"`
			SchemaFormat string `yaml:"schemaFormat"`
		} `yaml:"messages"`
		Schemas map[string]any `yaml:"schemas"`
	} `yaml:"components"`
}

type ref struct {
	Ref string `yaml:"$ref"`
}

const schemaPrefix = "#/components/schemas/"

// Load reads the embedded api/asyncapi.yaml, as Parse does.
func Load() (*Document, error) {
	return Parse(api.AsyncAPI)
}

// Parse reads an AsyncAPI document and checks that it holds together:
// every message is on the channel and in the operation, under its own
// name, with its schemas, each a JSON Schema draft 07 schema that uses
// no keyword draft 07 leaves undefined.
func Parse(asyncAPI []byte) (*Document, error) {
	var doc document
	if err := yaml.Unmarshal(asyncAPI, &doc); err != nil {
		return nil, fmt.Errorf("asyncapi.yaml: %w", err)
	}
	schemas := doc.Components.Schemas
	c, err := compiler(schemas)
	if err != nil {
		return nil, err
	}
	d := &Document{messages: map[string]message{}}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(schemas)) {
		errs = append(errs, undefinedKeywords(schemaPrefix+name, schemas[name]))
	}
	for key, m := range doc.Components.Messages {
		if m.Name != key {
			errs = append(errs, fmt.Errorf("message %s is named %q", key, m.Name))
		}
		if m.ContentType != "application/cloudevents+json" {
			errs = append(errs, fmt.Errorf("message %s: content type %q", key, m.ContentType))
		}
		if m.SchemaFormat != "" {
			errs = append(errs, fmt.Errorf("message %s: schema format %q, not AsyncAPI's default", key, m.SchemaFormat))
		}
		payload, err1 := schemaOf(c, schemas, m.Payload)
		headers, err2 := schemaOf(c, schemas, m.Headers)
		if err := errors.Join(err1, err2); err != nil {
			errs = append(errs, fmt.Errorf("message %s: %w", key, err))
			continue
		}
		d.messages[key] = message{payload: payload, headers: headers, cloudEventType: cloudEventType(schemas, m.Payload)}
	}
	for name, ch := range doc.Channels {
		errs = append(errs, sameMessages("channel "+name, d, slices.Collect(maps.Values(ch.Messages)), "#/components/messages/"))
	}
	for name, op := range doc.Operations {
		errs = append(errs, sameMessages("operation "+name, d, op.Messages, "#/channels/"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("asyncapi.yaml: %w", err)
	}
	return d, nil
}

// resource is where the compiler finds the document's schemas; their
// references (#/components/schemas/...) resolve within it.
const resource = "file:///api/asyncapi.yaml"

// compiler compiles the document's schemas as JSON Schema draft 07, and
// checks each it compiles against draft 07's meta-schema.
func compiler(schemas map[string]any) (*jsonschema.Compiler, error) {
	// The YAML passes through JSON so that numbers are JSON's.
	doc, err := json.Marshal(map[string]any{"components": map[string]any{"schemas": schemas}})
	if err != nil {
		return nil, fmt.Errorf("asyncapi.yaml's schemas: %w", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("asyncapi.yaml's schemas: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	// Draft 07 names no integer formats; the document's int64 says what
	// the service writes, and a consumer's generated code reads.
	c.RegisterFormat(&jsonschema.Format{Name: "int64", Validate: fitsInt64})
	if err := c.AddResource(resource, v); err != nil {
		return nil, fmt.Errorf("asyncapi.yaml's schemas: %w", err)
	}
	return c, nil
}

func schemaOf(c *jsonschema.Compiler, schemas map[string]any, r ref) (*jsonschema.Schema, error) {
	name, ok := strings.CutPrefix(r.Ref, schemaPrefix)
	if _, found := schemas[name]; !ok || !found {
		return nil, fmt.Errorf("no schema %q", r.Ref)
	}
	s, err := c.Compile(resource + r.Ref)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", r.Ref, err)
	}
	return s, nil
}

// keywords are JSON Schema draft 07's and those AsyncAPI's schema format
// adds to it. Validators ignore any other, so a keyword from elsewhere
// (OpenAPI's `nullable`, `example`) says nothing to AsyncAPI's tools.
var keywords = map[string]bool{
	"$id": true, "$schema": true, "$ref": true, "$comment": true,
	"title": true, "description": true, "default": true, "readOnly": true, "writeOnly": true, "examples": true,
	"multipleOf": true, "maximum": true, "exclusiveMaximum": true, "minimum": true, "exclusiveMinimum": true,
	"maxLength": true, "minLength": true, "pattern": true,
	"additionalItems": true, "items": true, "maxItems": true, "minItems": true, "uniqueItems": true, "contains": true,
	"maxProperties": true, "minProperties": true, "required": true, "additionalProperties": true,
	"definitions": true, "properties": true, "patternProperties": true, "dependencies": true, "propertyNames": true,
	"const": true, "enum": true, "type": true, "format": true, "contentMediaType": true, "contentEncoding": true,
	"if": true, "then": true, "else": true, "allOf": true, "anyOf": true, "oneOf": true, "not": true,
	// AsyncAPI's
	"discriminator": true, "externalDocs": true, "deprecated": true,
}

// undefinedKeywords reports each keyword of the schema, or of a schema
// within it, that is not a keyword (nor an x- extension).
func undefinedKeywords(at string, schema any) error {
	s, ok := schema.(map[string]any)
	if !ok {
		return nil // a boolean schema, or not a schema, which the compiler reports
	}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(s)) {
		v := s[k]
		switch k {
		case "properties", "patternProperties", "definitions", "dependencies":
			if m, ok := v.(map[string]any); ok {
				for _, name := range slices.Sorted(maps.Keys(m)) {
					errs = append(errs, undefinedKeywords(at+"/"+k+"/"+name, m[name]))
				}
			}
		case "allOf", "anyOf", "oneOf", "items":
			if a, ok := v.([]any); ok {
				for i, e := range a {
					errs = append(errs, undefinedKeywords(fmt.Sprintf("%s/%s/%d", at, k, i), e))
				}
				continue
			}
			errs = append(errs, undefinedKeywords(at+"/"+k, v))
		case "additionalItems", "additionalProperties", "contains", "propertyNames", "not", "if", "then", "else":
			errs = append(errs, undefinedKeywords(at+"/"+k, v))
		default:
			if !keywords[k] && !strings.HasPrefix(k, "x-") {
				errs = append(errs, fmt.Errorf("%s: %q is no keyword of JSON Schema draft 07", at, k))
			}
		}
	}
	return errors.Join(errs...)
}

// cloudEventType is the single value the payload's `type` admits, "" when
// it admits another number of values.
func cloudEventType(schemas map[string]any, payload ref) string {
	resolve := func(s any) map[string]any {
		m, _ := s.(map[string]any)
		if r, ok := m["$ref"].(string); ok {
			m, _ = schemas[strings.TrimPrefix(r, schemaPrefix)].(map[string]any)
		}
		return m
	}
	top := resolve(map[string]any{"$ref": payload.Ref})
	allOf, _ := top["allOf"].([]any)
	var types []string
	for _, s := range append([]any{top}, allOf...) {
		props, _ := resolve(s)["properties"].(map[string]any)
		t, _ := props["type"].(map[string]any)
		enum, _ := t["enum"].([]any)
		for _, v := range enum {
			if v, ok := v.(string); ok {
				types = append(types, v)
			}
		}
	}
	if len(types) != 1 {
		return ""
	}
	return types[0]
}

// sameMessages reports a list of message references that is not exactly
// the document's messages.
func sameMessages(where string, d *Document, refs []ref, prefix string) error {
	var names []string
	for _, r := range refs {
		rest, ok := strings.CutPrefix(r.Ref, prefix)
		if !ok {
			return fmt.Errorf("%s: reference %q", where, r.Ref)
		}
		names = append(names, rest[strings.LastIndexByte(rest, '/')+1:])
	}
	slices.Sort(names)
	if want := d.EventTypes(); !slices.Equal(names, want) {
		return fmt.Errorf("%s lists the messages %v, not %v", where, names, want)
	}
	return nil
}

// EventTypes lists the event types the document has a message for, sorted.
func (d *Document) EventTypes() []string {
	return slices.Sorted(maps.Keys(d.messages))
}

// CloudEventType returns the CloudEvents type the event type's message
// admits; false when the document has no such message or it admits more
// than one type.
func (d *Document) CloudEventType(eventType string) (string, bool) {
	m, ok := d.messages[eventType]
	return m.cloudEventType, ok && m.cloudEventType != ""
}

// Check returns what keeps body from being a message of the event type.
func (d *Document) Check(eventType string, body []byte) error {
	m, ok := d.messages[eventType]
	if !ok {
		return fmt.Errorf("asyncapi.yaml has no message %q", eventType)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("message %s: %w", eventType, err)
	}
	if err := m.payload.Validate(v); err != nil {
		return fmt.Errorf("message %s: %w", eventType, err)
	}
	return nil
}

// CheckHeaders returns what keeps headers from being those of a message
// of the event type.
func (d *Document) CheckHeaders(eventType string, headers map[string]string) error {
	m, ok := d.messages[eventType]
	if !ok {
		return fmt.Errorf("asyncapi.yaml has no message %q", eventType)
	}
	v := make(map[string]any, len(headers))
	for k, h := range headers {
		v[k] = h
	}
	if err := m.headers.Validate(v); err != nil {
		return fmt.Errorf("message %s headers: %w", eventType, err)
	}
	return nil
}

var loaded = sync.OnceValues(Load)

// Validate fails the test unless body is a message of the event type that
// api/asyncapi.yaml describes.
func Validate(t testing.TB, eventType string, body []byte) {
	t.Helper()
	d, err := loaded()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Check(eventType, body); err != nil {
		t.Errorf("%v\nbody: %s", err, body)
	}
}

// ValidateHeaders fails the test unless headers are those of a message
// of the event type, each header by its first value.
func ValidateHeaders(t testing.TB, eventType string, headers map[string]string) {
	t.Helper()
	d, err := loaded()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.CheckHeaders(eventType, headers); err != nil {
		t.Error(err)
	}
}

// fitsInt64 refuses a number that is no 64-bit integer; other values are
// for the schema's type to refuse.
func fitsInt64(v any) error {
	n, ok := v.(json.Number)
	if !ok {
		return nil
	}
	if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
		return fmt.Errorf("%s is no int64", n)
	}
	return nil
}
