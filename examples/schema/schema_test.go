package schema_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	restate "github.com/qcodr/restate-sdk-go"
	"github.com/qcodr/restate-sdk-go/examples/internal/e2e"
	"github.com/qcodr/restate-sdk-go/examples/schema"
	"github.com/qcodr/restate-sdk-go/ingress"
)

var env e2e.Env

func TestMain(m *testing.M) { e2e.Main(m, &env, e2e.Options{}, schema.Shipping) }

func TestQuote(t *testing.T) {
	t.Parallel()
	parcel := schema.Parcel{
		From:        schema.Address{Country: "DE", City: "Berlin"},
		To:          schema.Address{Country: "FR", City: "Paris", Postcode: "75001"},
		WeightGrams: 1200,
		Dimensions:  &schema.Dimensions{Length: 70, Width: 50, Height: 40},
		Options:     []string{"express", "insured"},
	}
	before := time.Now()
	got, err := ingress.Call(e2e.Context(t), env.Client, schema.QuoteParcel.Target(), parcel)
	if err != nil {
		t.Fatal(err)
	}
	want := schema.Quote{
		Carrier: "Snail Mail", Currency: "EUR", DeliveryDays: 3, PriceCents: 490 + 200 + 700 + 1500 + 900 + 250,
		Breakdown:  map[string]int64{"base": 490, "weight": 200, "international": 700, "bulky": 1500, "express": 900, "insured": 250},
		ValidUntil: got.ValidUntil,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("quote (-want +got):\n%s", diff)
	}
	if d := got.ValidUntil.Sub(before); d < 23*time.Hour || d > 25*time.Hour {
		t.Errorf("validUntil %s is not a day from now", got.ValidUntil)
	}
}

// TestMalformedInput sends JSON that does not fit Parcel, as any HTTP
// client could: the SDK fails it with a terminal 400 before the handler
// runs.
func TestMalformedInput(t *testing.T) {
	t.Parallel()
	resp, err := http.Post(env.Client.URL()+"/Shipping/quote", "application/json",
		strings.NewReader(`{"weightGrams": "heavy"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "cannot decode the input") {
		t.Fatalf("malformed input: %d %s, want 400 and a decoding error", resp.StatusCode, body)
	}

	_, err = ingress.Call(e2e.Context(t), env.Client, schema.QuoteParcel.Target(), schema.Parcel{WeightGrams: 40_000})
	if restate.ErrorCode(err) != 422 {
		t.Fatalf("too heavy: %v, want code 422", err)
	}
}

// TestManifestSchema reads the schemas back from the endpoint's manifest
// and from the runtime, which got them at registration.
func TestManifestSchema(t *testing.T) {
	t.Parallel()
	var manifest struct {
		Services []struct {
			Name     string `json:"name"`
			Handlers []struct {
				Name   string                              `json:"name"`
				Input  struct{ JSONSchema map[string]any } `json:"input"`
				Output struct{ JSONSchema map[string]any } `json:"output"`
			} `json:"handlers"`
		} `json:"services"`
	}
	getJSON(t, env.EndpointURL+"/discover", "application/vnd.restate.endpointmanifest.v3+json", &manifest)
	if len(manifest.Services) != 1 || len(manifest.Services[0].Handlers) != 1 {
		t.Fatalf("manifest: %+v", manifest)
	}
	h := manifest.Services[0].Handlers[0]
	in, out := h.Input.JSONSchema, h.Output.JSONSchema

	// The input: required fields, optional ones, nested objects.
	if diff := cmp.Diff([]any{"from", "to", "weightGrams"}, in["required"]); diff != "" {
		t.Errorf("input required (-want +got):\n%s", diff)
	}
	props := in["properties"].(map[string]any)
	want := map[string]any{
		"type": "object", "title": "Address", "required": []any{"country", "city"},
		"properties": map[string]any{
			"country": map[string]any{"type": "string"}, "city": map[string]any{"type": "string"},
			"postcode": map[string]any{"type": "string"},
		},
	}
	if diff := cmp.Diff(want, props["from"]); diff != "" {
		t.Errorf("input from (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"type": "integer"}, props["weightGrams"]); diff != "" {
		t.Errorf("input weightGrams (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{"object", "null"}, props["dimensions"].(map[string]any)["type"]); diff != "" {
		t.Errorf("input dimensions type (-want +got):\n%s", diff)
	}
	// The output: a map and a time.
	oprops := out["properties"].(map[string]any)
	if diff := cmp.Diff(map[string]any{"type": "string", "format": "date-time"}, oprops["validUntil"]); diff != "" {
		t.Errorf("output validUntil (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"type": "integer"}, oprops["breakdown"].(map[string]any)["additionalProperties"]); diff != "" {
		t.Errorf("output breakdown (-want +got):\n%s", diff)
	}

	// The runtime kept the schemas and the documentation.
	var handler struct {
		Documentation    string         `json:"documentation"`
		InputJSONSchema  map[string]any `json:"input_json_schema"`
		OutputJSONSchema map[string]any `json:"output_json_schema"`
	}
	getJSON(t, env.AdminURL+"/services/Shipping/handlers/quote", "application/json", &handler)
	if handler.Documentation != "Prices a parcel." {
		t.Errorf("documentation = %q", handler.Documentation)
	}
	if diff := cmp.Diff(in, handler.InputJSONSchema); diff != "" {
		t.Errorf("runtime's input schema (-manifest +runtime):\n%s", diff)
	}
	if diff := cmp.Diff(out, handler.OutputJSONSchema); diff != "" {
		t.Errorf("runtime's output schema (-manifest +runtime):\n%s", diff)
	}
}

func getJSON(t *testing.T, url, accept string, v any) {
	t.Helper()
	req, err := http.NewRequestWithContext(e2e.Context(t), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", url, err, body)
	}
}
