module github.com/qcodr/restate-sdk-go/restatevet

go 1.25.0

require (
	github.com/golangci/plugin-module-register v0.1.2
	github.com/qcodr/restate-sdk-go v0.0.0-00010101000000-000000000000
	golang.org/x/tools v0.38.0
)

require (
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	golang.org/x/mod v0.29.0 // indirect
	golang.org/x/sync v0.17.0 // indirect
)

replace github.com/qcodr/restate-sdk-go => ../
