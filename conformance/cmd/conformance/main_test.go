package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qcodr/restate-sdk-go/conformance/suite"
)

func TestFormatResult(t *testing.T) {
	pass := suite.Result{Class: "State", Test: "add", Duration: 1234 * time.Millisecond}
	if got, want := formatResult("default", "bidi", pass), "PASS  default/bidi  State/add (1.2s)"; got != want {
		t.Errorf("pass line = %q, want %q", got, want)
	}
	fail := suite.Result{Class: "State", Test: "add", Duration: 50 * time.Millisecond, Err: errors.New("first line\n  second line\n")}
	got := formatResult("always-suspending", "request-response", fail)
	want := "FAIL  always-suspending/request-response  State/add (0.1s): first line | second line"
	if got != want {
		t.Errorf("fail line = %q, want %q", got, want)
	}
	if strings.Contains(got, "\n") {
		t.Error("result line spans several lines")
	}
	long := suite.Result{Class: "C", Test: "t", Err: errors.New(strings.Repeat("x", 2*maxReasonLen))}
	if l := len(formatResult("d", "m", long)); l > maxReasonLen+100 {
		t.Errorf("long reason not truncated: %d bytes", l)
	}
}

func TestFormatSummary(t *testing.T) {
	if got := formatSummary(55, 1); got != "55 passed, 1 failed" {
		t.Errorf("summary = %q", got)
	}
}

func TestFormatLogTails(t *testing.T) {
	rep := suite.ClassReport{Class: "Sleep", RuntimeLogs: "r1\nr2\nr3\n", ServiceLogs: ""}
	got := formatLogTails("default", "bidi", rep, 2)
	want := "--- restate-server log tail: default/bidi Sleep ---\nr2\nr3\n" +
		"--- test-services log tail: default/bidi Sleep ---\n(empty)\n" +
		"--- end of logs: default/bidi Sleep ---\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestSplitList(t *testing.T) {
	got := splitList(" default, v7,,")
	if len(got) != 2 || got[0] != "default" || got[1] != "v7" {
		t.Errorf("splitList = %q", got)
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-config", "default,lazy-state", "-mode", "bidi,request-response", "-run", "^State/", "-parallel", "3", "-v"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.configs) != 2 || len(o.modes) != 2 || o.parallel != 3 || !o.verbose || o.servicesBin != "bin/test-services" {
		t.Errorf("options = %+v", o)
	}
	jobs, total, err := plan(o)
	if err != nil {
		t.Fatal(err)
	}
	// State (3 tests) in default and lazy-state, in both modes.
	if len(jobs) != 4 || total != 12 {
		t.Errorf("plan: %d jobs, %d tests; want 4 jobs, 12 tests", len(jobs), total)
	}

	for _, args := range [][]string{
		{"-config", "nope"},
		{"-mode", "grpc"},
		{"-run", "("},
		{"-parallel", "0"},
		{"-config", ""},
		{"extra"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) succeeded", args)
		}
	}
}

func TestPlanAllDefault(t *testing.T) {
	o, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	jobs, total, err := plan(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 17 || total != 55 {
		t.Errorf("default plan: %d classes, %d tests; want 17, 55", len(jobs), total)
	}
}

func TestRunListAndErrors(t *testing.T) {
	o, err := parseFlags([]string{"-list", "-run", "^Sleep/", "-config", "persisted-timers"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if code := run(o, &out, io.Discard); code != 0 {
		t.Fatalf("list exit code %d", code)
	}
	want := "persisted-timers/bidi  Sleep/sleep\npersisted-timers/bidi  Sleep/manySleeps\n"
	if out.String() != want {
		t.Errorf("list output:\n%s\nwant:\n%s", out.String(), want)
	}

	o, _ = parseFlags([]string{"-run", "NoSuchTest"}, io.Discard)
	if code := run(o, io.Discard, io.Discard); code != 2 {
		t.Errorf("no matching test: exit code %d, want 2", code)
	}
	o, _ = parseFlags([]string{"-services-bin", filepath.Join(t.TempDir(), "missing")}, io.Discard)
	var errOut strings.Builder
	if code := run(o, io.Discard, &errOut); code != 2 || !strings.Contains(errOut.String(), "test-services binary") {
		t.Errorf("missing binary: exit code %d, stderr %q", code, errOut.String())
	}
}

func TestCheckExecutable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := checkExecutable(file); err == nil {
		t.Error("non-executable file accepted")
	}
	if _, err := checkExecutable(dir); err == nil {
		t.Error("directory accepted")
	}
	if err := os.Chmod(file, 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := checkExecutable(file); err != nil || got != file {
		t.Errorf("checkExecutable = %q, %v", got, err)
	}
}
