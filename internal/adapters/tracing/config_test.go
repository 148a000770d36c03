package tracing_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/tracing"
)

// load reads env as the service reads the environment: every variable,
// unset ones too.
func load(env map[string]string) (tracing.Config, error) {
	return tracing.Load(func(k string) string { return env[k] })
}

func TestTracingIsOffUnlessAnExporterIsConfigured(t *testing.T) {
	t.Parallel()
	const endpoint = "http://127.0.0.1:4318"
	for _, c := range []struct {
		name string
		env  map[string]string
		on   bool
	}{
		{"nothing set", nil, false},
		{"a service name alone", map[string]string{"OTEL_SERVICE_NAME": "shop", "OTEL_TRACES_SAMPLER": "always_on"}, false},
		{"an endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}, true},
		{"a traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": endpoint + "/v1/traces"}, true},
		{"the otlp exporter named", map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true},
		{"the none exporter and an endpoint", map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}, false},
		{"the SDK disabled", map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}, false},
		{"the SDK disabled, in capitals", map[string]string{"OTEL_SDK_DISABLED": "TRUE", "OTEL_TRACES_EXPORTER": "otlp"}, false},
		{"the SDK not disabled", map[string]string{"OTEL_SDK_DISABLED": "false", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}, true},
	} {
		// Given the environment, when it is read
		cfg, err := load(c.env)
		// Then tracing is on only with an exporter
		if err != nil || cfg.Enabled() != c.on {
			t.Errorf("%s: Enabled() = %t, %v; want %t", c.name, cfg.Enabled(), err, c.on)
		}
	}
}

func TestVariablesReadTheSpecificationsDefaults(t *testing.T) {
	t.Parallel()
	// Given nothing set, when the environment is read
	cfg, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Then the defaults are the specification's
	want := tracing.Config{Timeout: 10 * time.Second, Protocol: "http/protobuf", Sampler: "parentbased_always_on", SamplerArg: 1,
		Propagators: []string{"tracecontext", "baggage"}}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("config %+v, want %+v", cfg, want)
	}
	// and each default a variable shows reads as unset does
	for _, v := range tracing.Variables(&tracing.Config{}) {
		if v.Default == "" {
			continue
		}
		got, err := load(map[string]string{v.Name: v.Default})
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s=%s: %+v, %v; want %+v", v.Name, v.Default, got, err, want)
		}
	}
}

func TestVariablesReadEveryValue(t *testing.T) {
	t.Parallel()
	// Given every variable set
	cfg, err := load(map[string]string{
		"OTEL_TRACES_EXPORTER":               "otlp",
		"OTEL_EXPORTER_OTLP_ENDPOINT":        "https://collector.example.com:4318/base",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces",
		"OTEL_EXPORTER_OTLP_HEADERS":         "api-key=s%C3%A9cret, x-tenant = shop ",
		"OTEL_EXPORTER_OTLP_TRACES_HEADERS":  "authorization=Bearer%20abc",
		"OTEL_EXPORTER_OTLP_TIMEOUT":         "2500",
		"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT":  "1000",
		"OTEL_EXPORTER_OTLP_PROTOCOL":        "http/json",
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
		"OTEL_SERVICE_NAME":                  "orders",
		"OTEL_RESOURCE_ATTRIBUTES":           "deployment.environment.name=prod,service.namespace=shop",
		"OTEL_TRACES_SAMPLER":                "parentbased_traceidratio",
		"OTEL_TRACES_SAMPLER_ARG":            "0.1",
		"OTEL_PROPAGATORS":                   "tracecontext",
	})
	if err != nil {
		t.Fatal(err)
	}
	// Then each is read, URL-encoded values decoded, spaces around pairs dropped
	want := tracing.Config{
		Exporter:           "otlp",
		Endpoint:           "https://collector.example.com:4318/base",
		TracesEndpoint:     "http://127.0.0.1:4318/v1/traces",
		Headers:            map[string]string{"api-key": "sécret", "x-tenant": "shop"},
		TracesHeaders:      map[string]string{"authorization": "Bearer abc"},
		Timeout:            2500 * time.Millisecond,
		TracesTimeout:      time.Second,
		Protocol:           "http/json",
		TracesProtocol:     "http/protobuf",
		ServiceName:        "orders",
		ResourceAttributes: map[string]string{"deployment.environment.name": "prod", "service.namespace": "shop"},
		Sampler:            "parentbased_traceidratio",
		SamplerArg:         0.1,
		Propagators:        []string{"tracecontext"},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("config\n %+v\nwant %+v", cfg, want)
	}
}

func TestVariablesRefuseWhatTheyCannotUse(t *testing.T) {
	t.Parallel()
	for name, value := range map[string]string{
		"OTEL_SDK_DISABLED":                  "yes",
		"OTEL_TRACES_EXPORTER":               "zipkin",
		"OTEL_EXPORTER_OTLP_ENDPOINT":        "collector:4318",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "grpc://collector:4317",
		"OTEL_EXPORTER_OTLP_HEADERS":         "api-key",
		"OTEL_EXPORTER_OTLP_TRACES_HEADERS":  "=value",
		"OTEL_EXPORTER_OTLP_TIMEOUT":         "10s",
		"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT":  "0",
		"OTEL_EXPORTER_OTLP_PROTOCOL":        "grpc",
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http",
		"OTEL_RESOURCE_ATTRIBUTES":           "team=a%ZZ",
		"OTEL_TRACES_SAMPLER":                "jaeger_remote",
		"OTEL_TRACES_SAMPLER_ARG":            "1.5",
		"OTEL_PROPAGATORS":                   "tracecontext,b3",
	} {
		// Given a value the service cannot use, when it is read
		_, err := load(map[string]string{name: value})
		// Then it is refused, naming the variable, the value and what it wants
		if err == nil || !strings.Contains(err.Error(), name+" "+`"`+value+`"`) || !strings.Contains(err.Error(), "want") {
			t.Errorf("%s=%s: %v", name, value, err)
		}
	}
}
