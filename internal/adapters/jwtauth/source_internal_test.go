package jwtauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"slices"
	"testing"

	"github.com/MicahParks/jwkset"
)

// TestParseSetKeepsSigningKeysOnly: a provider's set may hold keys that
// must never verify a token; they are skipped, the others kept.
func TestParseSetKeepsSigningKeysOnly(t *testing.T) {
	t.Parallel()
	jwk := func(pub crypto.PublicKey, kid string, alg jwkset.ALG, use jwkset.USE) jwkset.JWKMarshal {
		j, err := jwkset.NewJWKFromKey(pub, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: alg, USE: use}})
		if err != nil {
			t.Fatal(err)
		}
		return j.Marshal()
	}
	ed, _, _ := ed25519.GenerateKey(rand.Reader)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	set := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{
		jwk(ed, "ed", jwkset.AlgEdDSA, jwkset.UseSig),
		jwk(p256.Public(), "es-no-alg", "", ""),
		jwk(rsa2048.Public(), "rs", jwkset.AlgRS256, ""),
		jwk(ed, "for-encryption", "", jwkset.UseEnc),
		jwk(p384.Public(), "p384", jwkset.AlgES384, jwkset.UseSig),
		jwk(p384.Public(), "p384-no-alg", "", ""),
		jwk(rsa1024.Public(), "rsa-1024", jwkset.AlgRS256, jwkset.UseSig),
		jwk(rsa2048.Public(), "ps256", jwkset.AlgPS256, jwkset.UseSig),
		{KTY: jwkset.KtyOct, KID: "hmac", K: "c2VjcmV0"},
	}}
	raw, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	keys, skips, err := parseSet(raw)
	if err != nil {
		t.Fatal(err)
	}
	var kept, skipped []string
	for _, k := range keys {
		kept = append(kept, k.Marshal().KID)
	}
	for _, s := range skips {
		skipped = append(skipped, s.kid)
	}
	if want := []string{"ed", "es-no-alg", "rs"}; !slices.Equal(kept, want) {
		t.Errorf("kept %v, want %v", kept, want)
	}
	if want := []string{"for-encryption", "p384", "p384-no-alg", "rsa-1024", "ps256", "hmac"}; !slices.Equal(skipped, want) {
		t.Errorf("skipped %v, want %v", skipped, want)
	}
}
