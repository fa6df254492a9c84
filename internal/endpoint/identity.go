package endpoint

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"
)

// Request identity (v1): the runtime signs each request with an Ed25519 key
// and sends the JWT in x-restate-jwt-v1; the endpoint checks it against the
// public keys it was configured with, formatted publickeyv1_<base58>.

const (
	headerScheme = "x-restate-signature-scheme"
	headerJWT    = "x-restate-jwt-v1"
	keyPrefix    = "publickeyv1_"
)

// ParsePublicKey parses a request identity public key, publickeyv1_<base58
// of the 32-byte Ed25519 key>.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, keyPrefix) {
		return nil, fmt.Errorf("identity key %q does not start with %s", s, keyPrefix)
	}
	raw, err := base58Decode(s[len(keyPrefix):])
	if err != nil {
		return nil, fmt.Errorf("identity key %q: %w", s, err)
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("identity key %q decodes to %d bytes, want %d", s, len(raw), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

// FormatPublicKey formats an Ed25519 public key as publickeyv1_<base58>.
func FormatPublicKey(k ed25519.PublicKey) string { return keyPrefix + base58Encode(k) }

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

func base58Decode(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("empty base58 string")
	}
	n := new(big.Int)
	radix := big.NewInt(58)
	for _, c := range []byte(s) {
		i := strings.IndexByte(base58Alphabet, c)
		if i < 0 {
			return nil, fmt.Errorf("invalid base58 character %q", c)
		}
		n.Mul(n, radix)
		n.Add(n, big.NewInt(int64(i)))
	}
	b := n.Bytes()
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	return append(make([]byte, zeros), b...), nil
}

func base58Encode(b []byte) string {
	n := new(big.Int).SetBytes(b)
	radix := big.NewInt(58)
	mod := new(big.Int)
	var out []byte
	for n.Sign() > 0 {
		n.DivMod(n, radix, mod)
		out = append(out, base58Alphabet[mod.Int64()])
	}
	for _, c := range b {
		if c != 0 {
			break
		}
		out = append(out, '1')
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

// ErrUnauthorized is wrapped by every identity verification failure.
var ErrUnauthorized = errors.New("request identity verification failed")

// Verifier checks request identity. The zero Verifier (no keys) accepts
// every request.
type Verifier struct {
	keys []ed25519.PublicKey
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewVerifier returns a verifier for keys in publickeyv1_ format.
func NewVerifier(keys []string) (*Verifier, error) {
	v := &Verifier{}
	for _, k := range keys {
		if strings.TrimSpace(k) == "" {
			continue
		}
		pk, err := ParsePublicKey(k)
		if err != nil {
			return nil, err
		}
		v.keys = append(v.keys, pk)
	}
	return v, nil
}

// Enabled reports whether keys are configured.
func (v *Verifier) Enabled() bool { return v != nil && len(v.keys) > 0 }

// Verify checks the identity headers of a request whose path, relative to
// the deployment (prefix stripped), is path.
func (v *Verifier) Verify(path string, h http.Header) error {
	if !v.Enabled() {
		return nil
	}
	schemes := h.Values(headerScheme)
	if len(schemes) != 1 {
		return fmt.Errorf("%w: want exactly one %s header, got %d", ErrUnauthorized, headerScheme, len(schemes))
	}
	if schemes[0] != "v1" {
		return fmt.Errorf("%w: signature scheme %q is not accepted", ErrUnauthorized, schemes[0])
	}
	tokens := h.Values(headerJWT)
	if len(tokens) != 1 {
		return fmt.Errorf("%w: want exactly one %s header, got %d", ErrUnauthorized, headerJWT, len(tokens))
	}
	return v.verifyJWT(tokens[0], path)
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid"`
}

type jwtClaims struct {
	Aud any      `json:"aud"`
	Exp *float64 `json:"exp"`
	Nbf *float64 `json:"nbf"`
	Iat *float64 `json:"iat"`
}

func (v *Verifier) verifyJWT(token, path string) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return fmt.Errorf("%w: malformed token", ErrUnauthorized)
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return fmt.Errorf("%w: malformed token header", ErrUnauthorized)
	}
	var hdr jwtHeader
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
	for _, k := range v.keys {
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
	var c jwtClaims
	if err := json.Unmarshal(cb, &c); err != nil {
		return fmt.Errorf("%w: malformed token claims", ErrUnauthorized)
	}
	if !audienceMatches(c.Aud, path) {
		return fmt.Errorf("%w: token audience does not match %s", ErrUnauthorized, path)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
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

func audienceMatches(aud any, path string) bool {
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
