package h2c_test

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qcodr/restate-sdk-go/h2c"
	"github.com/qcodr/restate-sdk-go/internal/endpoint"
	"github.com/qcodr/restate-sdk-go/wire"
)

// signer makes request identity tokens the way restate-server does.
type signer struct {
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
}

func newSigner(t testing.TB) signer {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signer{pub, priv}
}

// key returns the public key as configured in the SDK.
func (s signer) key() string { return endpoint.FormatPublicKey(s.pub) }

func b64(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// jws signs header and claims with the signer's key.
func (s signer) jws(header, claims map[string]any) string {
	signed := b64(header) + "." + b64(claims)
	return signed + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(s.priv, []byte(signed)))
}

func (s signer) header() map[string]any {
	return map[string]any{"typ": "JWT", "alg": "EdDSA", "kid": s.key()}
}

// claims are valid claims for aud, as restate-server issues them.
func claims(aud any) map[string]any {
	now := time.Now().Unix()
	return map[string]any{"aud": aud, "iat": now, "nbf": now - 60, "exp": now + 60}
}

func (s signer) token(aud string) string { return s.jws(s.header(), claims(aud)) }

func with(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for key, val := range m {
		out[key] = val
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

// TestIdentity checks request identity verification: signed requests pass,
// and every unsigned, tampered, expired, wrongly addressed or wrongly
// signed request gets 401 before any handler code runs.
func TestIdentity(t *testing.T) {
	t.Parallel()
	key, other, second := newSigner(t), newSigner(t), newSigner(t)
	const aud = "/invoke/Greeter/greet"
	now := time.Now().Unix()
	valid := key.token(aud)
	parts := strings.Split(valid, ".")
	hs256 := func() string {
		signed := b64(map[string]any{"typ": "JWT", "alg": "HS256"}) + "." + b64(claims(aud))
		mac := hmac.New(sha256.New, key.pub)
		mac.Write([]byte(signed))
		return signed + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}()
	unsignedNone := b64(map[string]any{"typ": "JWT", "alg": "none"}) + "." + b64(claims(aud)) + "."

	tests := []struct {
		name    string
		path    string
		headers map[string][]string
		status  int
	}{
		{"valid", aud, map[string][]string{"x-restate-signature-scheme": {"v1"}, "x-restate-jwt-v1": {valid}}, 200},
		{"valid, second key", aud, map[string][]string{"x-restate-signature-scheme": {"v1"}, "x-restate-jwt-v1": {second.token(aud)}}, 200},
		{"valid, audience list", aud, map[string][]string{"x-restate-signature-scheme": {"v1"}, "x-restate-jwt-v1": {key.jws(key.header(), claims([]string{"/x", aud}))}}, 200},
		{"valid, under a mount prefix", "/restate" + aud, map[string][]string{"x-restate-signature-scheme": {"v1"}, "x-restate-jwt-v1": {valid}}, 200},
		{"no headers", aud, nil, 401},
		{"scheme unsigned", aud, map[string][]string{"x-restate-signature-scheme": {"unsigned"}}, 401},
		{"scheme unsigned with a token", aud, map[string][]string{"x-restate-signature-scheme": {"unsigned"}, "x-restate-jwt-v1": {valid}}, 401},
		{"scheme v2", aud, map[string][]string{"x-restate-signature-scheme": {"v2"}, "x-restate-jwt-v1": {valid}}, 401},
		{"two schemes", aud, map[string][]string{"x-restate-signature-scheme": {"v1", "v1"}, "x-restate-jwt-v1": {valid}}, 401},
		{"no token", aud, map[string][]string{"x-restate-signature-scheme": {"v1"}}, 401},
		{"two tokens", aud, map[string][]string{"x-restate-signature-scheme": {"v1"}, "x-restate-jwt-v1": {valid, valid}}, 401},
		{"token without scheme", aud, map[string][]string{"x-restate-jwt-v1": {valid}}, 401},
		{"malformed token", aud, map[string][]string{"x-restate-signature-scheme": {"v1"}, "x-restate-jwt-v1": {"abc"}}, 401},
		{"tampered claims", aud, map[string][]string{"x-restate-signature-scheme": {"v1"},
			"x-restate-jwt-v1": {parts[0] + "." + b64(with(claims(aud), "exp", now+3600)) + "." + parts[2]}}, 401},
		{"tampered signature", aud, map[string][]string{"x-restate-signature-scheme": {"v1"},
			"x-restate-jwt-v1": {parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 64))}}, 401},
		{"signed by another key", aud, map[string][]string{"x-restate-signature-scheme": {"v1"}, "x-restate-jwt-v1": {other.token(aud)}}, 401},
		{"expired", aud, map[string][]string{"x-restate-signature-scheme": {"v1"},
			"x-restate-jwt-v1": {key.jws(key.header(), with(claims(aud), "exp", now-1))}}, 401},
		{"no expiry", aud, map[string][]string{"x-restate-signature-scheme": {"v1"},
			"x-restate-jwt-v1": {key.jws(key.header(), with(claims(aud), "exp", nil))}}, 401},
		{"not valid yet", aud, map[string][]string{"x-restate-signature-scheme": {"v1"},
			"x-restate-jwt-v1": {key.jws(key.header(), with(claims(aud), "nbf", now+60))}}, 401},
		{"no not-before", aud, map[string][]string{"x-restate-signature-scheme": {"v1"},
			"x-restate-jwt-v1": {key.jws(key.header(), with(claims(aud), "nbf", nil))}}, 401},
		{"audience of another handler", aud, map[string][]string{"x-restate-signature-scheme": {"v1"}, "x-restate-jwt-v1": {key.token("/invoke/Greeter/fail")}}, 401},
		{"audience of discovery", aud, map[string][]string{"x-restate-signature-scheme": {"v1"}, "x-restate-jwt-v1": {key.token("/discover")}}, 401},
		{"no audience", aud, map[string][]string{"x-restate-signature-scheme": {"v1"},
			"x-restate-jwt-v1": {key.jws(key.header(), with(claims(aud), "aud", nil))}}, 401},
		{"algorithm HS256", aud, map[string][]string{"x-restate-signature-scheme": {"v1"}, "x-restate-jwt-v1": {hs256}}, 401},
		{"algorithm none", aud, map[string][]string{"x-restate-signature-scheme": {"v1"}, "x-restate-jwt-v1": {unsignedNone}}, 401},
		{"EdDSA header claiming another alg", aud, map[string][]string{"x-restate-signature-scheme": {"v1"},
			"x-restate-jwt-v1": {key.jws(with(key.header(), "alg", "ES256"), claims(aud))}}, 401},
		{"unknown route needs identity too", "/nothing", nil, 401},
	}
	for _, proto := range protos {
		for _, mode := range modes {
			h, err := h2c.NewHandler(testServices(), append(modeOptions(mode),
				h2c.WithLogger(quietLogger()), h2c.WithIdentityKeys(key.key(), second.key()))...)
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.Handle("/restate/", h)
			mux.Handle("/", h)
			r := newRigFor(t, proto, mode, h, mux)
			for _, tc := range tests {
				t.Run(name(proto, mode, tc.name), func(t *testing.T) {
					t.Parallel()
					req, err := http.NewRequest(http.MethodPost, r.url(tc.path), strings.NewReader(string(frames(journal(`"Eve"`)...))))
					if err != nil {
						t.Fatal(err)
					}
					req.Header.Set("content-type", wire.V6.ContentType())
					for k, vs := range tc.headers {
						for _, v := range vs {
							req.Header.Add(k, v)
						}
					}
					status, _, body := do(t, r.client, req)
					if status != tc.status {
						t.Fatalf("status %d %q, want %d", status, body, tc.status)
					}
					if status == 401 && body != "Unauthorized" {
						t.Errorf("body %q, want Unauthorized", body)
					}
				})
			}
		}
	}
}

// TestIdentityRunsNoHandler proves that a rejected request runs no user
// code: a handler that counts its starts sees only the signed requests.
func TestIdentityRunsNoHandler(t *testing.T) {
	key := newSigner(t)
	r := newRig(t, "h2c", "bidi", h2c.WithIdentityKeys(key.key()))
	before := runs.Load()
	for i := range 20 {
		req, _ := http.NewRequest(http.MethodPost, r.url("/invoke/Greeter/greet"), strings.NewReader(string(frames(journal(`"Eve"`)...))))
		req.Header.Set("content-type", wire.V6.ContentType())
		if i%2 == 0 {
			req.Header.Set("x-restate-signature-scheme", "v1")
			req.Header.Set("x-restate-jwt-v1", key.token("/invoke/Greeter/fail"))
		}
		if status, _, _ := do(t, r.client, req); status != 401 {
			t.Fatalf("status %d, want 401", status)
		}
	}
	if n := runs.Load() - before; n != 0 {
		t.Errorf("%d handlers ran for rejected requests", n)
	}
}

// TestIdentityDiscoveryAndHealth: discovery needs a token for /discover;
// health checks need none.
func TestIdentityDiscoveryAndHealth(t *testing.T) {
	t.Parallel()
	key := newSigner(t)
	r := newRig(t, "h2c", "bidi", h2c.WithIdentityKeys(key.key()))
	for _, tc := range []struct {
		name, path, token string
		status            int
	}{
		{"discover signed", "/discover", key.token("/discover"), 200},
		{"discover unsigned", "/discover", "", 401},
		{"discover with an invoke token", "/discover", key.token("/invoke/Greeter/greet"), 401},
		{"health unsigned", "/health", "", 200},
	} {
		h := map[string]string{"accept": runtimeAccept}
		if tc.token != "" {
			h["x-restate-signature-scheme"] = "v1"
			h["x-restate-jwt-v1"] = tc.token
		}
		if status, _, body := get(t, r.client, r.url(tc.path), h); status != tc.status {
			t.Errorf("%s: status %d %q, want %d", tc.name, status, body, tc.status)
		}
	}
}

// TestIdentityKeys checks key parsing at construction.
func TestIdentityKeys(t *testing.T) {
	t.Parallel()
	key := newSigner(t)
	for _, tc := range []struct {
		key string
		ok  bool
	}{
		{key.key(), true},
		{" " + key.key() + " ", true},
		{"", true}, // ignored
		{"publickeyv2_" + strings.TrimPrefix(key.key(), "publickeyv1_"), false},
		{"publickeyv1_", false},
		{"publickeyv1_0OIl", false}, // not base58
		{"publickeyv1_3mJr7AoUXx2Wqd", false},
		{"publickeyv1_11111111111111111111111111111111", false},                   // all zero: small order
		{endpoint.FormatPublicKey(append([]byte{1}, make([]byte, 31)...)), false}, // the identity point
	} {
		_, err := h2c.NewHandler(testServices(), h2c.WithIdentityKeys(tc.key))
		if (err == nil) != tc.ok {
			t.Errorf("key %q: error %v, want ok %v", tc.key, err, tc.ok)
		}
	}
	if k, err := endpoint.ParsePublicKey(key.key()); err != nil || !k.Equal(key.pub) {
		t.Errorf("ParsePublicKey(FormatPublicKey(k)) = %x, %v; want %x", k, err, key.pub)
	}
}

// TestIdentityHealthExact checks that only /health itself, or /health at
// the ServeMux pattern the handler is mounted on, skips verification: any
// other path ending in /health needs a token.
func TestIdentityHealthExact(t *testing.T) {
	t.Parallel()
	key := newSigner(t)
	h, err := h2c.NewHandler(testServices(), h2c.WithLogger(quietLogger()), h2c.WithIdentityKeys(key.key()))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/restate/", h)
	mux.Handle("GET /pat/{rest...}", h)
	mux.Handle("/other/", http.StripPrefix("/other", h))
	mux.Handle("/", h)
	r := newRigFor(t, "h2c", "bidi", h, mux)
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/health", 200},
		{"/restate/health", 200},
		{"/pat/health", 200},
		{"/other/health", 200},
		{"/restate/x/health", 401},
		{"/pat/x/health", 401},
		{"/anything/health", 401},
		{"/invoke/Greeter/health", 401},
		{"/health/", 401},
	} {
		if status, _, body := get(t, r.client, r.url(tc.path), nil); status != tc.status {
			t.Errorf("GET %s: status %d %q, want %d", tc.path, status, body, tc.status)
		}
	}
}
