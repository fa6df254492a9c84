package main

import (
	"log/slog"
	"slices"
	"testing"
)

func TestSplitList(t *testing.T) {
	for in, want := range map[string][]string{
		"":                 nil,
		" , ":              nil,
		"Counter":          {"Counter"},
		"Counter, Proxy,,": {"Counter", "Proxy"},
	} {
		if got := splitList(in); !slices.Equal(got, want) {
			t.Errorf("splitList(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLogLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{
		"": slog.LevelInfo, "info": slog.LevelInfo, "ERROR": slog.LevelError, "warn": slog.LevelWarn,
		"debug": slog.LevelDebug, "trace": slog.LevelDebug - 4, "bogus": slog.LevelInfo,
	} {
		if got := logLevel(in); got != want {
			t.Errorf("logLevel(%q) = %v, want %v", in, got, want)
		}
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		n       int
		wantErr bool
	}{
		{env: nil, n: 1},
		{env: map[string]string{"PROTOCOL_MODE": "bidi"}, n: 1},
		{env: map[string]string{"PROTOCOL_MODE": "request-response"}, n: 2},
		{env: map[string]string{"PROTOCOL_MODE": "bogus"}, wantErr: true},
		{env: map[string]string{"E2E_REQUEST_SIGNING": "publickeyv1_a, publickeyv1_b"}, n: 2},
	} {
		opts, err := options(env(tc.env), slog.Default())
		if (err != nil) != tc.wantErr || (err == nil && len(opts) != tc.n) {
			t.Errorf("options(%v) = %d options, %v; want %d options, error %v", tc.env, len(opts), err, tc.n, tc.wantErr)
		}
	}
}

func TestRunRejectsUnknownServices(t *testing.T) {
	if err := run(env(map[string]string{"SERVICES": "Counter,Nope", "PORT": "0"})); err == nil {
		t.Fatal("run succeeded with an unknown service")
	}
}
