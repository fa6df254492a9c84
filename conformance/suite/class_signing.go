package suite

import (
	"context"
	"os"
	"path/filepath"
)

// Request identity key pair of the Kotlin ProxyRequestSigning class.
const (
	signingPrivateKeyPEM = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIHsQRVQ+AZX9/Yy1b0Zw+OA+bb7xDxGsAd5kB45jZhoc
-----END PRIVATE KEY-----
`
	signingPublicKey = "publickeyv1_ChjENKeMvCtRnqG2mrBK1HmPKufgFUc98K8B3ononQvp"
)

// proxyRequestSigningClass ports ProxyRequestSigning: the runtime signs its
// requests and the endpoint verifies them (E2E_REQUEST_SIGNING).
func proxyRequestSigningClass() *Class {
	return &Class{
		Name:       ProxyRequestSigning,
		Services:   []string{svcCounter},
		ServiceEnv: map[string]string{"E2E_REQUEST_SIGNING": signingPublicKey},
		Prepare: func(dir string) (map[string]string, error) {
			path := filepath.Join(dir, "a.pem")
			if err := os.WriteFile(path, []byte(signingPrivateKeyPEM), 0o600); err != nil {
				return nil, err
			}
			return map[string]string{"RESTATE_REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE": path}, nil
		},
		Tests: []Test{{Name: "requestSigningPass", Concurrent: true, Run: requestSigningPass}},
	}
}

func requestSigningPass(ctx context.Context, e *Env) error {
	counter := NewUUID()
	if _, err := e.Ingress.Call(ctx, ObjectTarget(svcCounter, counter, "add"), 1, Idempotent()); err != nil {
		return err
	}
	n, err := Call[int64](ctx, e.Ingress, ObjectTarget(svcCounter, counter, "get"), nil, Idempotent())
	if err != nil {
		return err
	}
	return expectEqual("counter", n, int64(1))
}
