package lambda_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/lambda"
	"github.com/qcodr/restate-sdk-go/wire"
)

// FuzzEvent decodes arbitrary JSON as a Lambda event, as the runtime client
// does, and answers it: Invoke never panics or returns an error, answers
// with a known status, and a 200 to an invocation carries base64 frames
// that decode.
func FuzzEvent(f *testing.F) {
	body := base64.StdEncoding.EncodeToString(frames(&wire.InputCommand{Value: []byte(`"Alice"`)}))
	f.Add(`{"path":"/invoke/Greeter/greet","httpMethod":"POST","headers":{"content-type":"application/vnd.restate.invocation.v6"},"body":"` + body + `","isBase64Encoded":true}`)
	f.Add(`{"rawPath":"/prod/health","requestContext":{"stage":"prod","http":{"method":"GET"}}}`)
	f.Add(`{"path":"/discover","httpMethod":"GET","multiValueHeaders":{"Accept":["application/vnd.restate.endpointmanifest.v3+json"]}}`)
	f.Add(`{"path":"/invoke/Greeter/greet","httpMethod":"POST","body":"!!","isBase64Encoded":true}`)
	h, err := lambda.NewHandler([]restate.ServiceDefinition{greeter()}, quiet, lambda.WithMaxBodyBytes(1<<16))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, event string) {
		var req lambda.Request
		if json.Unmarshal([]byte(event), &req) != nil {
			return
		}
		resp, err := h.Invoke(context.Background(), req)
		if err != nil {
			t.Fatalf("Invoke returned an error: %v", err)
		}
		switch resp.StatusCode {
		case 200, 400, 401, 404, 405, 413, 415:
		default:
			t.Fatalf("status %d %q", resp.StatusCode, resp.Body)
		}
		if resp.StatusCode == 200 && resp.IsBase64Encoded {
			b, err := base64.StdEncoding.DecodeString(resp.Body)
			if err != nil {
				t.Fatalf("response body is not base64: %v", err)
			}
			r := wire.NewDecoder(0)
			_, _ = r.Write(b)
			for {
				fr, ok, err := r.Next()
				if err != nil {
					t.Fatalf("response frames: %v", err)
				}
				if !ok {
					break
				}
				if _, err := fr.Decode(); err != nil {
					t.Fatalf("response frame %v: %v", fr.Header.Type, err)
				}
			}
			if err := r.Finish(); err != nil {
				t.Fatalf("response ends inside a frame: %v", err)
			}
		}
	})
}
