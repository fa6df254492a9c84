// Package suite is a Go port of the Restate SDK conformance scenarios
// (restatedev/e2e, module sdk-tests).
//
// The scenarios exercise an SDK's "test-services" program (see
// shared/conformance/CONTRACT.md) through a real restate-server, talking only
// HTTP to the ingress and admin APIs and starting, stopping and killing the
// services process and the runtime. They do not depend on any SDK API.
//
// Scenarios are grouped in classes, mirroring the Kotlin test classes: each
// class gets a fresh restate-server (fresh base directory, the runtime
// environment of the configuration plus the class's own), a fresh
// test-services process bound to the services the class needs, and a
// deployment registration. [Classes] lists them; [Configurations] lists the
// runtime configurations (the Kotlin TestSuites); [RunClass] runs one class
// and reports one [Result] per test.
//
// Assertions, inputs, timeouts and polling follow the Kotlin originals: an
// "await untilAsserted" becomes [Eventually] (100 ms poll delay and
// interval, 10 s default timeout) and parametrized tests are expanded into
// one test each.
package suite
