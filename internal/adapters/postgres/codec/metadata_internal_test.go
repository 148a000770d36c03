package codec

import "testing"

// FuzzMetadataShapeAgreesWithFields: the one-pass read of metadata gives,
// for every document it accepts, what reading it field by field gives; it
// is only a quicker way to the same answer.
func FuzzMetadataShapeAgreesWithFields(f *testing.F) {
	for _, s := range []string{
		`{"actor": "orderbench-seed", "client_id": "orderbench-seed", "request_id": "01a248bc-ec8a-7d15-9c50-5abe5abfb5bd", "actor_roles": ["staff"], "causation_id": "c", "correlation_id": "k"}`,
		`{"request_id":"r3","actor":"staff-1","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}`,
		`{"actor": "a", "actor": "b"}`,
		`{"Actor": "a", "REQUEST_ID": "r"}`,
		`{"actor_roles": ["staff", "owner", "customer"], "extra": {"nested": [1, 2]}}`,
		`{"actor_roles": ["staff", 5]}`,
		`{"actor_roles": null, "actor": null}`,
		`{"actor": "Zo\u00eb", "client_id": "\ud83d\ude00"}`,
		"{\"actor\": \"\xff\"}",
		`{"actor": 42, "request_id": "r1"}`,
		`["meta"]`, `"text"`, `null`, `{}`, ``, `{"actor": "a"} trailing`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := decodeMetadataShape(data)
		if !ok {
			return
		}
		if want := decodeMetadataFields(data); got != want {
			t.Errorf("metadata %q: read in one pass as %+v, field by field as %+v", data, got, want)
		}
	})
}
