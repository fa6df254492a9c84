// Package run shows durable side effects: a handler that calls a real HTTP
// API inside restate.Run. Restate journals each run's result, so when the
// handler is retried or resumed the run returns the journaled result
// instead of calling the API again.
//
// Exchange/convert fetches an exchange rate (a GET, retried on transient
// failures, terminal on an unknown currency) and then records the
// conversion in a ledger (a POST made idempotent with the invocation id).
// [API] is a small in-memory implementation of that HTTP API, to run the
// example on one machine.
//
//	curl localhost:8080/Exchange/convert --json '{"amount": 100, "from": "EUR", "to": "USD"}'
package run

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
)

// ConvertRequest is the input of convert.
type ConvertRequest struct {
	Amount float64 `json:"amount"`
	From   string  `json:"from"`
	To     string  `json:"to"`
}

// Conversion is the output of convert.
type Conversion struct {
	ConvertRequest
	Rate   float64 `json:"rate"`
	Result float64 `json:"result"`
	// LedgerID is the id the ledger gave the recorded conversion.
	LedgerID string `json:"ledgerId"`
}

// Exchange is the example's service and its handler.
type Exchange struct {
	Convert *restate.Handler[ConvertRequest, Conversion]
	Service *restate.Service
}

// New returns the Exchange service calling the HTTP API at apiURL with hc
// (http.DefaultClient when nil).
func New(apiURL string, hc *http.Client) *Exchange {
	if hc == nil {
		hc = http.DefaultClient
	}
	x := &exchange{api: apiURL, http: hc}
	convert := restate.NewHandler("convert", x.convert)
	return &Exchange{
		Convert: convert,
		Service: restate.NewService("Exchange", convert,
			restate.WithDocumentation("Converts amounts with rates from an HTTP API, durably.")),
	}
}

type exchange struct {
	api  string
	http *http.Client
}

func (x *exchange) convert(ctx restate.Context, req ConvertRequest) (Conversion, error) {
	// The GET runs once per invocation: on a retry of the handler the
	// journaled rate is returned. Transient failures of the API are retried
	// by the run's policy, up to 5 attempts; an unknown currency is a
	// terminal error and fails the invocation at once.
	rate, err := restate.Run(ctx, func(rc restate.RunContext) (float64, error) {
		return x.fetchRate(rc, req.From, req.To)
	}, restate.WithName("fetch rate"), restate.WithMaxAttempts(5), restate.WithRetryInterval(50*time.Millisecond))
	if err != nil {
		return Conversion{}, err
	}
	c := Conversion{ConvertRequest: req, Rate: rate, Result: req.Amount * rate}

	// The POST may be executed more than once if the response is lost, so
	// it carries an idempotency key: the invocation id, the same on every
	// retry.
	c.LedgerID, err = restate.Run(ctx, func(rc restate.RunContext) (string, error) {
		return x.record(rc, rc.Request().ID, c)
	}, restate.WithName("record"))
	return c, err
}

func (x *exchange) fetchRate(rc restate.RunContext, from, to string) (float64, error) {
	u := x.api + "/rates?" + url.Values{"from": {from}, "to": {to}}.Encode()
	req, err := http.NewRequestWithContext(rc, http.MethodGet, u, nil)
	if err != nil {
		return 0, restate.Terminal(err)
	}
	resp, err := x.http.Do(req)
	if err != nil {
		return 0, err // retried
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return 0, &restate.TerminalError{Code: 404, Message: fmt.Sprintf("no exchange rate from %s to %s", from, to)}
	case resp.StatusCode != http.StatusOK:
		return 0, fmt.Errorf("rates API: %s", resp.Status) // retried
	}
	var body struct {
		Rate float64 `json:"rate"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, fmt.Errorf("rates API: %w", err)
	}
	return body.Rate, nil
}

func (x *exchange) record(rc restate.RunContext, key string, c Conversion) (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", restate.Terminal(err)
	}
	req, err := http.NewRequestWithContext(rc, http.MethodPost, x.api+"/ledger", bytes.NewReader(b))
	if err != nil {
		return "", restate.Terminal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := x.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("ledger: %s", resp.Status)
	}
	var body struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", fmt.Errorf("ledger: %w", err)
	}
	return body.ID, nil
}
