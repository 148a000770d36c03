// Package asyncapitest holds broker messages to api/asyncapi.yaml: a
// message's body must match the payload schema of its event type's
// message and its headers the headers schema. Tests use it on encoded
// messages and on messages read back from the broker alike.
//
// The document's schemas are checked with kin-openapi, which the HTTP
// tests already use: it resolves the $refs and validates values
// (patterns, formats, required, additionalProperties, allOf). The
// schemas therefore keep to what AsyncAPI's schema format (JSON Schema
// draft 07) and OpenAPI 3.0 read alike; Load refuses any other.
package asyncapitest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/orderapi/orderapi/api"
	"go.yaml.in/yaml/v3"
)

// Document is api/asyncapi.yaml's messages, by event type.
type Document struct {
	messages map[string]message
}

type message struct {
	payload, headers *openapi3.Schema
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
			Name        string `yaml:"name"`
			ContentType string `yaml:"contentType"`
			Headers     ref    `yaml:"headers"`
			Payload     ref    `yaml:"payload"`
		} `yaml:"messages"`
		Schemas map[string]any `yaml:"schemas"`
	} `yaml:"components"`
}

type ref struct {
	Ref string `yaml:"$ref"`
}

// Load reads the embedded api/asyncapi.yaml and checks that it holds
// together: every message is on the channel and in the operation, under
// its own name, with its schemas.
func Load() (*Document, error) {
	var doc document
	if err := yaml.Unmarshal(api.AsyncAPI, &doc); err != nil {
		return nil, fmt.Errorf("asyncapi.yaml: %w", err)
	}
	schemas, err := loadSchemas(doc.Components.Schemas)
	if err != nil {
		return nil, err
	}
	d := &Document{messages: map[string]message{}}
	var errs []error
	for key, m := range doc.Components.Messages {
		if m.Name != key {
			errs = append(errs, fmt.Errorf("message %s is named %q", key, m.Name))
		}
		if m.ContentType != "application/cloudevents+json" {
			errs = append(errs, fmt.Errorf("message %s: content type %q", key, m.ContentType))
		}
		payload, err1 := schemaOf(schemas, m.Payload)
		headers, err2 := schemaOf(schemas, m.Headers)
		if err := errors.Join(err1, err2); err != nil {
			errs = append(errs, fmt.Errorf("message %s: %w", key, err))
			continue
		}
		d.messages[key] = message{payload: payload, headers: headers, cloudEventType: cloudEventType(payload)}
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

// loadSchemas resolves the document's schemas as the schemas of an
// OpenAPI 3.0 document, and validates them as such.
func loadSchemas(schemas map[string]any) (openapi3.Schemas, error) {
	doc, err := json.Marshal(map[string]any{
		"openapi":    "3.0.3",
		"info":       map[string]any{"title": "api/asyncapi.yaml's schemas", "version": "1"},
		"paths":      map[string]any{},
		"components": map[string]any{"schemas": schemas},
	})
	if err != nil {
		return nil, fmt.Errorf("asyncapi.yaml's schemas: %w", err)
	}
	loaded, err := openapi3.NewLoader().LoadFromData(doc)
	if err != nil {
		return nil, fmt.Errorf("asyncapi.yaml's schemas: %w", err)
	}
	if err := loaded.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("asyncapi.yaml's schemas: %w", err)
	}
	return loaded.Components.Schemas, nil
}

func schemaOf(schemas openapi3.Schemas, r ref) (*openapi3.Schema, error) {
	name, ok := strings.CutPrefix(r.Ref, "#/components/schemas/")
	if s := schemas[name]; ok && s != nil && s.Value != nil {
		return s.Value, nil
	}
	return nil, fmt.Errorf("no schema %q", r.Ref)
}

// cloudEventType is the single value the payload's `type` admits, "" when
// it admits another number of values.
func cloudEventType(payload *openapi3.Schema) string {
	var types []string
	for _, s := range append([]*openapi3.SchemaRef{{Value: payload}}, payload.AllOf...) {
		if t := s.Value.Properties["type"]; t != nil && t.Value != nil {
			for _, v := range t.Value.Enum {
				if v, ok := v.(string); ok {
					types = append(types, v)
				}
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
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("message %s: %w", eventType, err)
	}
	if err := m.payload.VisitJSON(v, openapi3.MultiErrors()); err != nil {
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
	if err := m.headers.VisitJSON(v, openapi3.MultiErrors()); err != nil {
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
