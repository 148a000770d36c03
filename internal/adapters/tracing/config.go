package tracing

import (
	"cmp"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Config is tracing as the OTEL_* environment variables set it, each read
// and checked by Variables. The zero Config is tracing off.
type Config struct {
	// Disabled is OTEL_SDK_DISABLED=true: off, whatever else is set.
	Disabled bool
	// Exporter is OTEL_TRACES_EXPORTER: "otlp", "none", or "" when unset
	// (otlp if an endpoint is set, else off).
	Exporter string
	// Endpoint is OTEL_EXPORTER_OTLP_ENDPOINT, a base URL the traces path
	// (/v1/traces) is appended to; TracesEndpoint is
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, the whole URL, used as it is and
	// before Endpoint.
	Endpoint, TracesEndpoint string
	// Headers and TracesHeaders are sent with every export, the latter
	// instead of the former when set.
	Headers, TracesHeaders map[string]string
	// Timeout and TracesTimeout bound each export, the latter instead of
	// the former when set.
	Timeout, TracesTimeout time.Duration
	// Protocol and TracesProtocol are OTLP's encoding over HTTP:
	// http/protobuf or http/json.
	Protocol, TracesProtocol string
	// ServiceName is OTEL_SERVICE_NAME; "" leaves service.name to
	// ResourceAttributes, else "orderapi".
	ServiceName string
	// ResourceAttributes are OTEL_RESOURCE_ATTRIBUTES, describing this
	// process on every span.
	ResourceAttributes map[string]string
	// Sampler is OTEL_TRACES_SAMPLER, SamplerArg its ratio (for the
	// traceidratio samplers).
	Sampler    string
	SamplerArg float64
	// Propagators are OTEL_PROPAGATORS: tracecontext, baggage, or none.
	Propagators []string
}

// Enabled reports whether the configuration turns tracing on: an OTLP
// exporter, named or implied by an endpoint, and the SDK not disabled.
func (c Config) Enabled() bool {
	if c.Disabled || c.Exporter == exporterNone {
		return false
	}
	return c.Exporter == exporterOTLP || c.Endpoint != "" || c.TracesEndpoint != ""
}

// Defaults of the variables, as the specification sets them but for the
// service's name.
const (
	exporterOTLP       = "otlp"
	exporterNone       = "none"
	defaultProtocol    = "http/protobuf"
	defaultSampler     = "parentbased_always_on"
	defaultPropagators = "tracecontext,baggage"
	defaultServiceName = "orderapi"
	tracesPath         = "/v1/traces"
	defaultTimeout     = 10 * time.Second
)

// A Variable is one OTEL_* environment variable: its name, the default an
// unset one has (as help shows it; "" for none), what it does, and Set,
// which reads a value ("" when unset) into the Config, or says, naming the
// variable, what it wants instead.
type Variable struct {
	Name, Default, Doc string
	Set                func(v string) error
}

// Variables lists the OTEL_* variables that configure tracing, each
// reading into c. Those the SDK reads on its own (certificates,
// compression, the batch processor's) are not among them.
func Variables(c *Config) []Variable {
	vs := []Variable{
		{"OTEL_SDK_DISABLED", "false", "true turns tracing off, whatever else is set",
			parsed(func(v string) (err error) { c.Disabled, err = parseBool(v); return }, "want true or false")},
		{"OTEL_TRACES_EXPORTER", "", "otlp exports traces (to localhost:4318 unless an endpoint is set); none turns tracing off. Unset: otlp when an endpoint is set, else off",
			parsed(func(v string) error { c.Exporter = v; return oneOf(v, "", exporterOTLP, exporterNone) }, "want otlp or none")},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "", "the OTLP/HTTP collector's base URL, such as http://collector:4318: traces go to its /v1/traces, and setting it turns tracing on",
			parsed(func(v string) error { c.Endpoint = v; return checkURL(v) }, "want an http:// or https:// URL")},
		{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "", "the URL traces are sent to, as it is, instead (turns tracing on too)",
			parsed(func(v string) error { c.TracesEndpoint = v; return checkURL(v) }, "want an http:// or https:// URL")},
		{"OTEL_EXPORTER_OTLP_HEADERS", "", "headers sent with every export, as key=value pairs separated by commas, values URL-encoded",
			parsed(func(v string) (err error) { c.Headers, err = parsePairs(v); return }, "want key=value pairs separated by commas")},
		{"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "", "headers sent with traces instead",
			parsed(func(v string) (err error) { c.TracesHeaders, err = parsePairs(v); return }, "want key=value pairs separated by commas")},
		{"OTEL_EXPORTER_OTLP_TIMEOUT", "10000", "how long an export may take, in milliseconds",
			parsed(func(v string) (err error) { c.Timeout, err = parseMillis(v, defaultTimeout); return }, "want a number of milliseconds, 1 or more")},
		{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "", "the same for traces, instead",
			parsed(func(v string) (err error) { c.TracesTimeout, err = parseMillis(v, 0); return }, "want a number of milliseconds, 1 or more")},
		{"OTEL_EXPORTER_OTLP_PROTOCOL", defaultProtocol, "http/protobuf or http/json (grpc is not supported)",
			parsed(func(v string) (err error) { c.Protocol, err = parseProtocol(v, defaultProtocol); return }, "want http/protobuf or http/json")},
		{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "", "the same for traces, instead",
			parsed(func(v string) (err error) { c.TracesProtocol, err = parseProtocol(v, ""); return }, "want http/protobuf or http/json")},
		{"OTEL_SERVICE_NAME", "", "the spans' service.name (unset: the one in OTEL_RESOURCE_ATTRIBUTES, else orderapi)",
			parsed(func(v string) error { c.ServiceName = v; return nil }, "")},
		{"OTEL_RESOURCE_ATTRIBUTES", "", "attributes of this process on every span, as key=value pairs separated by commas, values URL-encoded (deployment.environment.name=prod)",
			parsed(func(v string) (err error) { c.ResourceAttributes, err = parsePairs(v); return }, "want key=value pairs separated by commas")},
		{"OTEL_TRACES_SAMPLER", defaultSampler, "which requests are traced: always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio (parentbased: as the caller's traceparent says, if it sent one)",
			parsed(func(v string) error {
				c.Sampler = cmp.Or(v, defaultSampler)
				return oneOf(c.Sampler, "always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio")
			}, "want always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio")},
		{"OTEL_TRACES_SAMPLER_ARG", "1", "the share of new traces the traceidratio samplers keep, 0 to 1 (0.1: one in ten)",
			parsed(func(v string) (err error) { c.SamplerArg, err = parseRatio(v); return }, "want a number from 0 to 1")},
		{"OTEL_PROPAGATORS", defaultPropagators, "the incoming headers a trace is continued from: tracecontext (W3C traceparent, tracestate), baggage, or none",
			parsed(func(v string) (err error) { c.Propagators, err = parsePropagators(v); return }, "want tracecontext, baggage or none, separated by commas")},
	}
	for i := range vs {
		name, set := vs[i].Name, vs[i].Set
		vs[i].Set = func(v string) error {
			if err := set(v); err != nil {
				return fmt.Errorf("%s %w", name, err)
			}
			return nil
		}
	}
	return vs
}

// parsed is a Variable's Set: read parses a value, and its failure is
// reported as the variable's, with what it wants.
func parsed(read func(string) error, want string) func(string) error {
	return func(v string) error {
		if err := read(v); err != nil {
			return fmt.Errorf("%q: %s", v, want)
		}
		return nil
	}
}

var errInvalid = fmt.Errorf("invalid")

func oneOf(v string, words ...string) error {
	for _, w := range words {
		if v == w {
			return nil
		}
	}
	return errInvalid
}

// parseBool reads the specification's booleans: true or false, in any
// case; anything else is refused rather than taken for false.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, errInvalid
}

func checkURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errInvalid
	}
	return nil
}

// parsePairs reads key=value pairs separated by commas, each value
// URL-decoded, as the specification writes headers and resource
// attributes.
func parsePairs(v string) (map[string]string, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	pairs := make(map[string]string)
	for _, p := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(p, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, errInvalid
		}
		val, err := url.PathUnescape(strings.TrimSpace(val))
		if err != nil {
			return nil, err
		}
		pairs[k] = val
	}
	return pairs, nil
}

func parseMillis(v string, def time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, errInvalid
	}
	return time.Duration(n) * time.Millisecond, nil
}

func parseProtocol(v, def string) (string, error) {
	v = cmp.Or(v, def)
	return v, oneOf(v, def, "http/protobuf", "http/json")
}

func parseRatio(v string) (float64, error) {
	if v == "" {
		return 1, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f >= 0 && f <= 1) {
		return 0, errInvalid
	}
	return f, nil
}

func parsePropagators(v string) ([]string, error) {
	var names []string
	for _, n := range strings.Split(cmp.Or(v, defaultPropagators), ",") {
		n = strings.TrimSpace(n)
		if err := oneOf(n, "tracecontext", "baggage", "none"); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, nil
}

// endpointURL is where traces go: the traces endpoint as it is, or the
// base endpoint with the traces path; "" for the exporter's default.
func (c Config) endpointURL() string {
	if c.TracesEndpoint != "" {
		return c.TracesEndpoint
	}
	if c.Endpoint == "" {
		return ""
	}
	u, err := url.Parse(c.Endpoint)
	if err != nil {
		return ""
	}
	u.Path = path.Join(u.Path, tracesPath)
	return u.String()
}
