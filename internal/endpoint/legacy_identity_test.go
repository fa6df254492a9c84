package endpoint

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

type legacyJWTHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid"`
}

type legacyJWTClaims struct {
	Aud any      `json:"aud"`
	Exp *float64 `json:"exp"`
	Nbf *float64 `json:"nbf"`
	Iat *float64 `json:"iat"`
}

// legacyVerifyJWT is the hand-written verifier the package used before it
// moved to golang-jwt; it stays here only as the reference of
// FuzzVerifyDifferential.
func legacyVerifyJWT(keys []ed25519.PublicKey, now func() time.Time, token, path string) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return fmt.Errorf("%w: malformed token", ErrUnauthorized)
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return fmt.Errorf("%w: malformed token header", ErrUnauthorized)
	}
	var hdr legacyJWTHeader
	if err := json.Unmarshal(hb, &hdr); err != nil {
		return fmt.Errorf("%w: malformed token header", ErrUnauthorized)
	}
	if hdr.Alg != "EdDSA" {
		return fmt.Errorf("%w: algorithm %q is not accepted", ErrUnauthorized, hdr.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return fmt.Errorf("%w: malformed token signature", ErrUnauthorized)
	}
	signed := []byte(token[:len(parts[0])+1+len(parts[1])])
	ok := false
	for _, k := range keys {
		if ed25519.Verify(k, signed, sig) {
			ok = true
			break
		}
	}
	if !ok {
		return fmt.Errorf("%w: signature does not match any configured key", ErrUnauthorized)
	}
	cb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return fmt.Errorf("%w: malformed token claims", ErrUnauthorized)
	}
	var c legacyJWTClaims
	if err := json.Unmarshal(cb, &c); err != nil {
		return fmt.Errorf("%w: malformed token claims", ErrUnauthorized)
	}
	if !legacyAudienceMatches(c.Aud, path) {
		return fmt.Errorf("%w: token audience does not match %s", ErrUnauthorized, path)
	}
	t := float64(now().Unix())
	if c.Exp == nil || t >= *c.Exp {
		return fmt.Errorf("%w: token expired or without expiry", ErrUnauthorized)
	}
	if c.Nbf == nil || t < *c.Nbf {
		return fmt.Errorf("%w: token not valid yet or without not-before", ErrUnauthorized)
	}
	return nil
}

func legacyAudienceMatches(aud any, path string) bool {
	switch a := aud.(type) {
	case string:
		return a == path
	case []any:
		for _, x := range a {
			if s, ok := x.(string); ok && s == path {
				return true
			}
		}
	}
	return false
}
