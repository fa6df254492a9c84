// Package schema shows structured input and output: handlers take and
// return Go structs, encoded as JSON. The SDK derives a JSON schema for
// each from the struct's fields and json tags and publishes it in the
// endpoint manifest, where restate-server shows it (admin API, UI,
// generated OpenAPI) and clients can generate code from it.
//
//	curl localhost:8080/Shipping/quote --json '{
//	  "from": {"country": "DE", "city": "Berlin"},
//	  "to": {"country": "FR", "city": "Paris"},
//	  "weightGrams": 1200, "options": ["express"]}'
package schema

import (
	"fmt"
	"slices"
	"time"

	restate "github.com/qcodr/restate-sdk-go"
)

// Address is where a parcel goes.
type Address struct {
	Country string `json:"country"`
	City    string `json:"city"`
	// Postcode is optional (omitempty): not required in the schema.
	Postcode string `json:"postcode,omitempty"`
}

// Dimensions of a parcel, in centimetres.
type Dimensions struct {
	Length int `json:"length"`
	Width  int `json:"width"`
	Height int `json:"height"`
}

// Parcel is the input of quote.
type Parcel struct {
	From        Address `json:"from"`
	To          Address `json:"to"`
	WeightGrams int     `json:"weightGrams"`
	// Dimensions is optional (a pointer): null or absent is fine.
	Dimensions *Dimensions `json:"dimensions,omitempty"`
	// Options are extra services: express, insured.
	Options []string `json:"options,omitempty"`
}

// Quote is the output of quote.
type Quote struct {
	Carrier      string           `json:"carrier"`
	PriceCents   int64            `json:"priceCents"`
	Currency     string           `json:"currency"`
	Breakdown    map[string]int64 `json:"breakdown"`
	DeliveryDays int              `json:"deliveryDays"`
	// ValidUntil encodes as an RFC 3339 string (schema format date-time).
	ValidUntil time.Time `json:"validUntil"`
}

// QuoteParcel prices a parcel. Malformed JSON never reaches it: the SDK
// fails such invocations with a terminal error with code 400.
var QuoteParcel = restate.NewHandler("quote", func(ctx restate.Context, p Parcel) (Quote, error) {
	if p.WeightGrams <= 0 || p.WeightGrams > 30_000 {
		return Quote{}, &restate.TerminalError{Code: 422, Message: fmt.Sprintf("weight %dg is outside 1g..30kg", p.WeightGrams)}
	}
	q := Quote{Carrier: "Snail Mail", Currency: "EUR", Breakdown: map[string]int64{}, DeliveryDays: 3}
	q.Breakdown["base"] = 490
	q.Breakdown["weight"] = int64(p.WeightGrams/500) * 100
	if p.From.Country != p.To.Country {
		q.Breakdown["international"] = 700
		q.DeliveryDays += 2
	}
	if d := p.Dimensions; d != nil && d.Length*d.Width*d.Height > 60*40*40 {
		q.Breakdown["bulky"] = 1500
	}
	if slices.Contains(p.Options, "express") {
		q.Breakdown["express"] = 900
		q.DeliveryDays = max(1, q.DeliveryDays-2)
	}
	if slices.Contains(p.Options, "insured") {
		q.Breakdown["insured"] = 250
	}
	for _, c := range q.Breakdown {
		q.PriceCents += c
	}
	// The quote's validity depends on the clock: journal it.
	now, err := restate.Now(ctx)
	if err != nil {
		return Quote{}, err
	}
	q.ValidUntil = now.Add(24 * time.Hour).UTC()
	return q, nil
}, restate.WithDocumentation("Prices a parcel."))

// Shipping is the service to serve.
var Shipping = restate.NewService("Shipping", QuoteParcel,
	restate.WithDocumentation("Quotes for parcels: structured input and output with JSON schemas."))
