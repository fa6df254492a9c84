module github.com/qcodr/restate-sdk-go

go 1.25

require (
	github.com/google/go-cmp v0.7.0
	pgregory.net/rapid v1.3.0
)

require github.com/golang-jwt/jwt/v5 v5.3.1
