package jsonbody

import (
	jsonv1 "encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
)

// agreeRequest has a field of every kind a request body has: text that
// may be absent or null, plain text, an integer and a nested object.
type agreeRequest struct {
	ID       *string       `json:"id"`
	Name     string        `json:"name"`
	Quantity *int64        `json:"quantity"`
	Address  *agreeAddress `json:"address"`
}

type agreeAddress struct {
	Line1 string  `json:"line1"`
	Line2 *string `json:"line2"`
}

var agreeSeeds = []string{
	`{}`,
	`{"id":"x","name":"n","quantity":3,"address":{"line1":"a","line2":"b"}}`,
	`{"id":null,"name":null,"quantity":null,"address":null}`,
	`{"address":{"line2":null}} `,
	`{"quantity":-0}`, `{"quantity":1.0}`, `{"quantity":1e2}`, `{"quantity":1.}`,
	`{"quantity":-9223372036854775808}`, `{"quantity":9223372036854775808}`,
	`{"quantity":"1"}`, `{"name":1}`, `{"address":[]}`, `{"address":"x"}`,
	`{"Name":"x"}`, `{"NAME":1}`, `{"name":"x","Name":"y"}`, `{"address":{"LINE1":"a"}}`,
	`{"name":"x","name":"y"}`, `{"na\u006de":"x"}`, `{"name":"x","na\u006de":"y"}`,
	`{"name":"\ud83d\ude00\u00e9\/\\\"\b\f\n\r\t\u0000"}`, `{"name":"\ud800"}`, `{"\udc00":1}`,
	`{"name":"\x41"}`, `{"name":"\u12"}`, "{\ufeff}", "{\"name\":\"\xff\"}",
	`{"colour":{"a":[1,{"b":2}]}}`, `{"address":{"x":[[[[1]]]]}}`,
	`{"name":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	`{} x`, `{}{}`, `{} "\ud800"`, `{"name":"x"}` + "\t\r\n ",
	`{"name":"x",}`, `{"name" "x"}`, `{"quantity":01}`, `{"quantity":-}`, `{"name":tru}`,
}

// TestReadingsAgree: json.Unmarshal accepts exactly the bodies the API's
// earlier reading (explain) finds nothing wrong with, into the same value,
// so that every refusal is explained as before and no body changes sides.
func TestReadingsAgree(t *testing.T) {
	t.Parallel()
	for _, s := range agreeSeeds {
		checkReadingsAgree(t, []byte(s))
	}
	// Mutations of the seeds: bytes dropped, repeated, swapped or
	// replaced by one that matters to JSON.
	rnd := rand.New(rand.NewPCG(1, 2))
	const alphabet = "{}[]:,\"\\u0123456789abcdefABCDEF.eE+- nulltruefalse\xff\xed\xa0\x80"
	for range 20_000 {
		b := []byte(agreeSeeds[rnd.IntN(len(agreeSeeds))])
		for range 1 + rnd.IntN(3) {
			if len(b) < 2 {
				break
			}
			i := 1 + rnd.IntN(len(b)-1)
			switch rnd.IntN(4) {
			case 0:
				b = append(b[:i:i], b[i+1:]...)
			case 1:
				b = append(b[:i:i], append([]byte{b[i-1]}, b[i:]...)...)
			case 2:
				b[i-1], b[i] = b[i], b[i-1]
			default:
				b[i] = alphabet[rnd.IntN(len(alphabet))]
			}
		}
		checkReadingsAgree(t, b)
	}
}

func FuzzReadingsAgree(f *testing.F) {
	for _, s := range agreeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkReadingsAgree)
}

func checkReadingsAgree(t *testing.T, data []byte) {
	data = []byte(strings.TrimLeft(string(data), " \t\r\n"))
	if len(data) == 0 || data[0] != '{' {
		return // refused before either reading, by Decode
	}
	var strictly agreeRequest
	strictErr := json.Unmarshal(data, &strictly, strict)
	explained := explain[agreeRequest](data)
	switch {
	case strictErr == nil && explained != nil:
		t.Fatalf("%q: json.Unmarshal accepts, the earlier reading refuses: %v", data, explained)
	case strictErr != nil && explained == nil:
		t.Fatalf("%q: json.Unmarshal refuses (%v), the earlier reading accepts", data, strictErr)
	case strictErr == nil:
		var before agreeRequest
		if err := jsonv1.Unmarshal(data, &before); err != nil || !reflect.DeepEqual(before, strictly) {
			t.Fatalf("%q: json.Unmarshal gives %+v, encoding/json %+v (%v)", data, strictly, before, err)
		}
	}
}
