package lambda_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"

	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/lambda"
	"github.com/qcodr/restate-sdk-go/wire"
)

// In a function's main package the handler goes to the runtime client of
// github.com/aws/aws-lambda-go in one line:
//
//	lambda.Start(h.Invoke)
//
// Here it gets the two events restate-server sends: discovery at
// registration, then one attempt of an invocation.
func ExampleNewHandler() {
	greet := restate.NewHandler("greet", func(ctx restate.Context, name string) (string, error) {
		return "Hello " + name + "!", nil
	})
	h, err := lambda.NewHandler(
		[]restate.ServiceDefinition{restate.NewService("Greeter", greet)},
		lambda.WithLogger(slog.New(slog.DiscardHandler)), // no warning about the missing identity keys
	)
	if err != nil {
		log.Fatal(err)
	}

	// restate deployments register arn:aws:lambda:…: discovery.
	resp, _ := h.Invoke(context.Background(), lambda.Request{
		Path:       "/discover",
		HTTPMethod: "GET",
		Headers:    map[string]string{"accept": "application/vnd.restate.endpointmanifest.v4+json"},
	})
	var manifest struct {
		ProtocolMode string `json:"protocolMode"`
	}
	_ = json.Unmarshal([]byte(resp.Body), &manifest)
	fmt.Println(resp.StatusCode, resp.Headers["content-type"], manifest.ProtocolMode)

	// An invocation of Greeter/greet: a StartMessage and the journal, base64
	// encoded; the answer holds the frames the handler wrote.
	body := wire.AppendFrame(nil, &wire.StartMessage{ID: []byte("id"), DebugID: "inv_1", KnownEntries: 1}, 0)
	body = wire.AppendFrame(body, &wire.InputCommand{Value: []byte(`"Alice"`)}, 0)
	resp, _ = h.Invoke(context.Background(), lambda.Request{
		Path:            "/invoke/Greeter/greet",
		HTTPMethod:      "POST",
		Headers:         map[string]string{"content-type": "application/vnd.restate.invocation.v6"},
		Body:            base64.StdEncoding.EncodeToString(body),
		IsBase64Encoded: true,
	})
	fmt.Println(resp.StatusCode, resp.Headers["content-type"], resp.IsBase64Encoded)
	out, _ := base64.StdEncoding.DecodeString(resp.Body)
	d := wire.NewDecoder(0)
	_, _ = d.Write(out)
	for {
		f, ok, err := d.Next()
		if err != nil || !ok {
			break
		}
		m, _ := f.Decode()
		if o, isOutput := m.(*wire.OutputCommand); isOutput {
			fmt.Printf("%s %s\n", f.Header.Type, o.Result.Value)
		} else {
			fmt.Println(f.Header.Type)
		}
	}
	// Output:
	// 200 application/vnd.restate.endpointmanifest.v4+json REQUEST_RESPONSE
	// 200 application/vnd.restate.invocation.v6 true
	// OutputCommandMessage "Hello Alice!"
	// EndMessage
}
