module github.com/qcodr/restate-sdk-go

go 1.25.0

require (
	github.com/google/go-cmp v0.7.0
	pgregory.net/rapid v1.3.0
)

require github.com/golang-jwt/jwt/v5 v5.3.1

require (
	golang.org/x/net v0.58.0
	golang.org/x/text v0.41.0 // indirect
)
