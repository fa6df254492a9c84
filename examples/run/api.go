package run

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
)

// API is an in-memory exchange-rate and ledger HTTP API, the external
// system of the example:
//
//	GET  /rates?from=EUR&to=USD   {"rate": 1.08}, or 404 for an unknown pair
//	POST /ledger                  {"id": "tx-1"}; the Idempotency-Key header
//	                              makes a repeated POST return the first id
//
// It is safe for concurrent use.
type API struct {
	rates map[string]float64

	mu      sync.Mutex
	entries []Conversion
	byKey   map[string]string
}

// NewAPI returns an API serving rates, keyed "FROM/TO".
func NewAPI(rates map[string]float64) *API {
	return &API{rates: rates, byKey: map[string]string{}}
}

// Entries returns the conversions recorded in the ledger.
func (a *API) Entries() []Conversion {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Conversion(nil), a.entries...)
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/rates":
		q := r.URL.Query()
		rate, ok := a.rates[q.Get("from")+"/"+q.Get("to")]
		if !ok {
			http.Error(w, "unknown currency pair", http.StatusNotFound)
			return
		}
		writeJSON(w, http.StatusOK, map[string]float64{"rate": rate})
	case r.Method == http.MethodPost && r.URL.Path == "/ledger":
		var c Conversion
		if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		key := r.Header.Get("Idempotency-Key")
		a.mu.Lock()
		id, seen := a.byKey[key]
		if !seen || key == "" {
			a.entries = append(a.entries, c)
			id = fmt.Sprintf("tx-%d", len(a.entries))
			a.byKey[key] = id
		}
		a.mu.Unlock()
		writeJSON(w, http.StatusCreated, map[string]string{"id": id})
	default:
		http.NotFound(w, r)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
