//go:build race

package h2c_test

const raceEnabled = true
