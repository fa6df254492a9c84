package endpoint

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
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
	if hasSmallOrder(raw) {
		return nil, fmt.Errorf("identity key %q is a small-order point, which accepts forged signatures", s)
	}
	return ed25519.PublicKey(raw), nil
}

// smallOrderY holds the y coordinates, reduced mod p, of the eight points of
// order dividing 8 on edwards25519: 1 (the identity), p-1 (order 2), 0 (the
// two points of order 4) and ±y8 (the four points of order 8). An encoding
// whose y reduces to one of them is a small-order key whatever its sign bit
// and whether or not y was written canonically (below p).
var smallOrderY = func() []*big.Int {
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	// d = -121665 / 121666 mod p.
	d := new(big.Int).ModInverse(big.NewInt(121666), p)
	d.Mul(d, big.NewInt(-121665)).Mod(d, p)
	// Doubling (x, y) on -x² + y² = 1 + d·x²·y² gives a point with y = 0
	// exactly when x² = -y², so the order-8 points satisfy
	// d·y⁴ + 2·y² - 1 = 0, that is y² = (-1 ± sqrt(1 + d)) / d.
	root := new(big.Int).ModSqrt(new(big.Int).Add(d, big.NewInt(1)), p)
	dInv := new(big.Int).ModInverse(d, p)
	out := []*big.Int{big.NewInt(0), big.NewInt(1), new(big.Int).Sub(p, big.NewInt(1))}
	for _, r := range []*big.Int{root, new(big.Int).Sub(p, root)} {
		y2 := new(big.Int).Sub(r, big.NewInt(1))
		y2.Mul(y2, dInv).Mod(y2, p)
		x2 := new(big.Int).Sub(p, y2)
		y := new(big.Int).ModSqrt(y2, p)
		if y == nil || new(big.Int).ModSqrt(x2, p) == nil {
			continue // no point with this y² lies on the curve
		}
		out = append(out, y, new(big.Int).Sub(p, y))
	}
	return out
}()

// hasSmallOrder reports whether the 32-byte encoding raw names a point of
// order dividing 8.
func hasSmallOrder(raw []byte) bool {
	be := make([]byte, len(raw))
	for i, b := range raw {
		be[len(raw)-1-i] = b
	}
	be[0] &= 0x7f // the sign bit of x
	y := new(big.Int).SetBytes(be)
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	y.Mod(y, p)
	for _, s := range smallOrderY {
		if y.Cmp(s) == 0 {
			return true
		}
	}
	return false
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

// MaxTokenBytes is the longest x-restate-jwt-v1 value the verifier looks
// at. Tokens the runtime signs are a few hundred bytes; anything longer than
// 4 KiB is rejected before it is split or decoded, so an unauthenticated
// request cannot make the verifier allocate in proportion to its header.
const MaxTokenBytes = 4 << 10

// identityClaims are the claims of a request identity token. Exp and Nbf
// keep their JSON numbers so that fractional seconds compare exactly.
type identityClaims struct {
	Aud any      `json:"aud"`
	Exp *float64 `json:"exp"`
	Nbf *float64 `json:"nbf"`
	Iat *float64 `json:"iat"`
}

// GetExpirationTime returns the exp claim.
func (c *identityClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return numericDate(c.Exp), nil
}

// GetNotBefore returns the nbf claim.
func (c *identityClaims) GetNotBefore() (*jwt.NumericDate, error) { return numericDate(c.Nbf), nil }

// GetIssuedAt returns the iat claim.
func (c *identityClaims) GetIssuedAt() (*jwt.NumericDate, error) { return numericDate(c.Iat), nil }

// GetIssuer returns no issuer: request identity does not use it.
func (c *identityClaims) GetIssuer() (string, error) { return "", nil }

// GetSubject returns no subject: request identity does not use it.
func (c *identityClaims) GetSubject() (string, error) { return "", nil }

// GetAudience returns the string audiences; other JSON values in an
// audience array are ignored, as they never match a path.
func (c *identityClaims) GetAudience() (jwt.ClaimStrings, error) {
	switch a := c.Aud.(type) {
	case string:
		return jwt.ClaimStrings{a}, nil
	case []any:
		out := make(jwt.ClaimStrings, 0, len(a))
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out, nil
	}
	return nil, nil
}

// numericDate converts seconds since the epoch to a date without rounding
// it down: a fractional part becomes at least one nanosecond, so the date
// is after the whole second exactly when the number is.
func numericDate(f *float64) *jwt.NumericDate {
	if f == nil {
		return nil
	}
	const limit = float64(1 << 62)
	switch {
	case math.IsNaN(*f):
		// NaN compares false both ways; treat it as the far past, which
		// fails exp and passes nbf, and exp is required.
		return &jwt.NumericDate{Time: time.Unix(-1<<62, 0)}
	case *f >= limit:
		return &jwt.NumericDate{Time: time.Unix(1<<62, 0)}
	case *f <= -limit:
		return &jwt.NumericDate{Time: time.Unix(-1<<62, 0)}
	}
	sec := math.Floor(*f)
	frac := *f - sec
	nsec := int64(frac * 1e9)
	if frac > 0 && nsec == 0 {
		nsec = 1
	}
	if nsec > 999_999_999 {
		nsec = 999_999_999
	}
	return &jwt.NumericDate{Time: time.Unix(int64(sec), nsec)}
}

func (v *Verifier) verifyJWT(token, path string) error {
	if len(token) > MaxTokenBytes {
		return fmt.Errorf("%w: token of %d bytes is longer than %d", ErrUnauthorized, len(token), MaxTokenBytes)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithAudience(path),
		jwt.WithExpirationRequired(),
		jwt.WithNotBeforeRequired(),
		jwt.WithTimeFunc(now),
	)
	keys := make([]jwt.VerificationKey, len(v.keys))
	for i, k := range v.keys {
		keys[i] = k
	}
	_, err := p.ParseWithClaims(token, &identityClaims{}, func(*jwt.Token) (any, error) {
		return jwt.VerificationKeySet{Keys: keys}, nil
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnauthorized, err)
	}
	return nil
}
