package personaldata

import "github.com/go-json-experiment/json/jsontext"

// Members returns the values of the members of the JSON object obj named
// in fields, by name; a member obj lacks is not in the map.
func Members(obj []byte, fields []string) (map[string]jsontext.Value, error) {
	found := map[string]jsontext.Value{}
	_, err := rewriteMembers(obj, fields, false, func(name string, v jsontext.Value) (jsontext.Value, error) {
		found[name] = v.Clone()
		return v, nil
	})
	return found, err
}

// ReplaceMembers returns the JSON object obj with the value of each member
// named in fields that obj has replaced by what f gives for it, in its
// place; where f gives none (nil), the member is left out. A member obj
// lacks is not added.
func ReplaceMembers(obj []byte, fields []string, f func(name string, v jsontext.Value) (jsontext.Value, error)) ([]byte, error) {
	return rewriteMembers(obj, fields, false, f)
}
