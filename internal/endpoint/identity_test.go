package endpoint

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// testKey is a fixed key pair so that fuzz seeds stay reproducible.
var testKey = ed25519.NewKeyFromSeed([]byte("restate-sdk-go identity test key"))

func testPub() ed25519.PublicKey { return testKey.Public().(ed25519.PublicKey) }

func signToken(header, claims any) string {
	hb, err := json.Marshal(header)
	if err != nil {
		panic(err)
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	signed := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	return signed + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(testKey, []byte(signed)))
}

func identityHeaders(token string) http.Header {
	h := http.Header{}
	h.Set(headerScheme, "v1")
	h.Set(headerJWT, token)
	return h
}

// TestVerifyAcceptsSignedToken checks the ordinary token restate-server
// issues, and the claims that make it fail.
func TestVerifyAcceptsSignedToken(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	v := &Verifier{keys: []ed25519.PublicKey{testPub()}, Now: func() time.Time { return now }}
	hdr := map[string]any{"typ": "JWT", "alg": "EdDSA"}
	base := func() map[string]any {
		return map[string]any{"aud": "/invoke/S/h", "iat": now.Unix(), "nbf": now.Unix() - 60, "exp": now.Unix() + 60}
	}
	if err := v.Verify("/invoke/S/h", identityHeaders(signToken(hdr, base()))); err != nil {
		t.Fatalf("valid token rejected: %v", err)
	}
	cases := map[string]func(map[string]any){
		"no exp":     func(c map[string]any) { delete(c, "exp") },
		"no nbf":     func(c map[string]any) { delete(c, "nbf") },
		"expired":    func(c map[string]any) { c["exp"] = now.Unix() },
		"future nbf": func(c map[string]any) { c["nbf"] = now.Unix() + 1 },
		"other aud":  func(c map[string]any) { c["aud"] = "/invoke/S/g" },
		"no aud":     func(c map[string]any) { delete(c, "aud") },
	}
	for name, mutate := range cases {
		c := base()
		mutate(c)
		if err := v.Verify("/invoke/S/h", identityHeaders(signToken(hdr, c))); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("%s: got %v, want ErrUnauthorized", name, err)
		}
	}
	other := map[string]any{"typ": "JWT", "alg": "HS256"}
	if err := v.Verify("/invoke/S/h", identityHeaders(signToken(other, base()))); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("HS256 header: got %v, want ErrUnauthorized", err)
	}
}

// TestVerifyRejectsLongTokenBeforeParsing checks that a token of 1 MiB of
// dots is rejected without the verifier allocating in proportion to it (the
// hand-written verifier split it into a million strings, about 16 MiB).
func TestVerifyRejectsLongTokenBeforeParsing(t *testing.T) {
	v := &Verifier{keys: []ed25519.PublicKey{testPub()}}
	h := identityHeaders(strings.Repeat(".", 1<<20))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const runs = 10
	for range runs {
		if err := v.Verify("/invoke/S/h", h); !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("got %v, want ErrUnauthorized", err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 16<<10 {
		t.Fatalf("verifying a 1 MiB token allocated %d bytes per request, want at most 16 KiB", per)
	}
}

// TestVerifyTokenLengthCap checks that a signed, otherwise valid token is
// accepted up to MaxTokenBytes and rejected past it.
func TestVerifyTokenLengthCap(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	v := &Verifier{keys: []ed25519.PublicKey{testPub()}, Now: func() time.Time { return now }}
	hdr := map[string]any{"alg": "EdDSA"}
	mk := func(pad int) string {
		return signToken(hdr, map[string]any{"aud": "/p", "nbf": now.Unix(), "exp": now.Unix() + 1, "x": strings.Repeat("a", pad)})
	}
	pad := 0
	for len(mk(pad+1)) <= MaxTokenBytes {
		pad++
	}
	if tok := mk(pad); len(tok) > MaxTokenBytes {
		t.Fatalf("setup: token of %d bytes", len(tok))
	} else if err := v.Verify("/p", identityHeaders(tok)); err != nil {
		t.Fatalf("token of %d bytes rejected: %v", len(tok), err)
	}
	tok := mk(pad + 1)
	if err := v.Verify("/p", identityHeaders(tok)); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("token of %d bytes: got %v, want ErrUnauthorized", len(tok), err)
	}
}

// FuzzVerifyDifferential compares the golang-jwt verifier with the
// hand-written one it replaced. raw is verified as given (random tokens
// carry no valid signature, so both must reject them); the other arguments
// build a token that is signed with the configured key, so that the claim
// checks are compared too.
func FuzzVerifyDifferential(f *testing.F) {
	f.Add("", "EdDSA", "/invoke/S/h", "/invoke/S/h", false, 1_700_000_060.0, 1_699_999_940.0, true, true)
	f.Add("a.b.c", "EdDSA", "/invoke/S/h", "/invoke/S/g", true, 1_700_000_000.0, 1_700_000_000.0, true, true)
	f.Add("eyJhbGciOiJub25lIn0.e30.", "none", "/p", "/p", false, 1_700_000_000.5, 1_700_000_000.5, true, false)
	f.Add("....", "HS256", "/p", "/p", true, 1e300, -1e300, false, true)
	f.Add(strings.Repeat(".", 5000), "EdDSA", "/p", "/p", false, 1_700_000_000.000001, 1_699_999_999.999999, true, true)
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	v := &Verifier{keys: []ed25519.PublicKey{testPub()}, Now: clock}
	f.Fuzz(func(t *testing.T, raw, alg, aud, path string, audArray bool, exp, nbf float64, hasExp, hasNbf bool) {
		if path == "" {
			path = "/"
		}
		tokens := []string{raw}
		claims := map[string]any{}
		if audArray {
			claims["aud"] = []any{1, aud}
		} else {
			claims["aud"] = aud
		}
		if hasExp {
			claims["exp"] = exp
		}
		if hasNbf {
			claims["nbf"] = nbf
		}
		if !math.IsNaN(exp) && !math.IsInf(exp, 0) && !math.IsNaN(nbf) && !math.IsInf(nbf, 0) {
			tokens = append(tokens, signToken(map[string]any{"typ": "JWT", "alg": alg}, claims))
		}
		for _, tok := range tokens {
			got := v.verifyJWT(tok, path)
			if got != nil && !errors.Is(got, ErrUnauthorized) {
				t.Fatalf("error %v does not wrap ErrUnauthorized", got)
			}
			if len(tok) > MaxTokenBytes {
				if got == nil {
					t.Fatalf("token of %d bytes accepted", len(tok))
				}
				continue
			}
			want := legacyVerifyJWT(v.keys, clock, tok, path)
			if (got == nil) != (want == nil) {
				t.Fatalf("token %q path %q: golang-jwt says %v, reference says %v", tok, path, got, want)
			}
		}
	})
}

// smallOrderEncodings returns encodings of points of order dividing 8, in
// every spelling ParsePublicKey must refuse: both sign bits, and y written
// as its value plus p where that still fits in 255 bits.
func smallOrderEncodings() [][]byte {
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	limit := new(big.Int).Lsh(big.NewInt(1), 255)
	var out [][]byte
	for _, y := range smallOrderY {
		for _, v := range []*big.Int{y, new(big.Int).Add(y, p)} {
			if v.Cmp(limit) >= 0 {
				continue
			}
			le := make([]byte, 32)
			be := v.FillBytes(make([]byte, 32))
			for i := range be {
				le[31-i] = be[i]
			}
			signed := append([]byte(nil), le...)
			signed[31] |= 0x80
			out = append(out, le, signed)
		}
	}
	return out
}

// TestParsePublicKeyRejectsSmallOrder checks that the all-zero key, the
// identity point and the other small-order encodings are refused, while a
// generated key is accepted.
func TestParsePublicKeyRejectsSmallOrder(t *testing.T) {
	// y of the order-8 point, as published in the curve25519 literature.
	y8, _ := new(big.Int).SetString("2707385501144840649318225287225658788936804267575313519463743609750303402022", 10)
	found := false
	for _, y := range smallOrderY {
		found = found || y.Cmp(y8) == 0
	}
	if len(smallOrderY) != 5 || !found {
		t.Fatalf("smallOrderY = %v, want 0, 1, p-1 and ±%v", smallOrderY, y8)
	}
	identity := make([]byte, 32)
	identity[0] = 1
	keys := []string{"publickeyv1_11111111111111111111111111111111", FormatPublicKey(identity)}
	for _, enc := range smallOrderEncodings() {
		keys = append(keys, FormatPublicKey(enc))
	}
	if len(keys) != 2+14 {
		t.Fatalf("got %d small-order encodings, want 14", len(keys)-2)
	}
	for _, k := range keys {
		if _, err := ParsePublicKey(k); err == nil || !strings.Contains(err.Error(), "small-order") {
			t.Errorf("ParsePublicKey(%s) = %v, want a small-order error", k, err)
		}
		if _, err := NewVerifier([]string{k}); err == nil {
			t.Errorf("NewVerifier(%s) succeeded", k)
		}
	}
	if _, err := ParsePublicKey(FormatPublicKey(testPub())); err != nil {
		t.Fatalf("generated key rejected: %v", err)
	}
}
